/**
 * Error and warning codes of shipping and pulling (docs/SHIPPING.md), kept
 * beside the code that loads NATS; the README's codes table lists them with
 * the core's (src/errors.ts). Codes are the contract, messages may improve.
 */
import type { CodedError } from '../errors.js';

/** The NATS client (the optional peer dependency `nats`) is not installed. */
export const ERR_NATS_CLIENT_MISSING = 'ERR_NATS_CLIENT_MISSING';
/** Connecting to the NATS server failed (unreachable, TLS, ...). */
export const ERR_NATS_CONNECT = 'ERR_NATS_CONNECT';
/** The server refused the credentials given. */
export const ERR_NATS_AUTH = 'ERR_NATS_AUTH';
/** The stream cannot be created or does not take the subject, and the server refused to change it. */
export const ERR_SHIP_STREAM = 'ERR_SHIP_STREAM';
/** A record is larger than the server's max_payload allows in one message. */
export const ERR_SHIP_RECORD_TOO_LARGE = 'ERR_SHIP_RECORD_TOO_LARGE';
/** The subject already carries another log's records (one log per subject). */
export const ERR_SHIP_SUBJECT_TAKEN = 'ERR_SHIP_SUBJECT_TAKEN';
/** A message in the stream is not one a shipper wrote (bad headers or framing). */
export const ERR_PULL_BAD_MESSAGE = 'ERR_PULL_BAD_MESSAGE';
/** A checkpoint file cannot be parsed. */
export const ERR_CHECKPOINT_CORRUPT = 'ERR_CHECKPOINT_CORRUPT';

/** Warning: retention's hard limit (maxTotalSize) deleted backups a shipper had not finished. */
export const WARN_UNSHIPPED_DROPPED = 'BINLOG_UNSHIPPED_DROPPED';

/** An Error with `code`, and `cause` when one is given. */
export function codedError(code: string, message: string, cause?: unknown): Error & CodedError {
  const err = cause === undefined ? new Error(message) : new Error(message, { cause });
  Object.defineProperty(err, 'code', { value: code, enumerable: true, writable: true, configurable: true });
  return err as Error & CodedError;
}
