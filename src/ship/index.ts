/**
 * binary-logger/ship: ship a log to NATS JetStream and pull many machines'
 * logs into one, exactly once (issue 12). Needs the optional peer
 * dependency `nats`; it is loaded only when ship() or pull() starts.
 */
export { ship, type ShipOptions, type ShipResult, type Shipper } from './shipper.js';
export { pull, type PullOptions, type PullResult, type Puller } from './puller.js';
export type { NatsOptions } from './connection.js';
export type { StreamSettings } from './stream.js';
export * from './errors.js';
