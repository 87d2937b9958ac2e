/** Type-only views of the NATS client, so that no module imports it at run time but connection.ts. */
export type { JetStreamClient, JetStreamManager, NatsConnection } from 'nats';
export type NatsModule = typeof import('nats');
