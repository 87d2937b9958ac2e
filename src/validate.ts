/** Argument checks. Everything is validated before anything touches disk. */
import { resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { invalidArgType, invalidArgValue, outOfRange } from './errors.js';

/** A string path or a `file:` URL, resolved to an absolute path. */
export function toPath(value: unknown, name = 'filePath'): string {
  if (value instanceof URL) return resolve(fileURLToPath(value));
  if (typeof value !== 'string') throw invalidArgType(name, 'of type string or an instance of URL', value);
  if (value.length === 0) throw invalidArgValue(name, 'must be a non-empty string. Received \'\'');
  if (value.includes('\0')) throw invalidArgValue(name, 'must be a string without null bytes');
  return resolve(value);
}

/** A positive safe integer, e.g. maxFileSize. */
export function positiveInteger(value: unknown, name: string): number {
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isSafeInteger(value) || value <= 0) {
    throw outOfRange(name, `a positive integer <= ${Number.MAX_SAFE_INTEGER}`, value);
  }
  return value;
}

/** A non-negative safe integer or undefined. */
export function optionalNonNegativeInteger(value: unknown, name: string): number | undefined {
  if (value === undefined) return undefined;
  if (typeof value !== 'number') throw invalidArgType(name, 'of type number', value);
  if (!Number.isSafeInteger(value) || value < 0) {
    throw outOfRange(name, `an integer >= 0 and <= ${Number.MAX_SAFE_INTEGER}`, value);
  }
  return value;
}

/** One of the listed strings, or the default when undefined. */
export function oneOf<T extends string>(value: unknown, name: string, allowed: readonly T[], fallback: T): T {
  if (value === undefined) return fallback;
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) {
    throw invalidArgValue(name, `must be one of ${allowed.map((a) => `'${a}'`).join(', ')}. Received ${JSON.stringify(value)}`);
  }
  return value as T;
}

export function optionalBoolean(value: unknown, name: string, fallback: boolean): boolean {
  if (value === undefined) return fallback;
  if (typeof value !== 'boolean') throw invalidArgType(name, 'of type boolean', value);
  return value;
}

/**
 * A payload must be a string or a Uint8Array (Buffer included). A string
 * must be well-formed UTF-16: a lone surrogate has no UTF-8 encoding, and
 * the original silently replaced it with U+FFFD; we refuse instead.
 */
export function checkPayload(payload: unknown): asserts payload is string | Uint8Array {
  if (typeof payload === 'string') {
    if (!payload.isWellFormed()) {
      const at = firstLoneSurrogate(payload);
      throw invalidArgValue(
        'payload',
        `must be a well-formed string: it has a lone surrogate (U+${payload.charCodeAt(at).toString(16).toUpperCase()}) at index ${at}, which UTF-8 cannot encode`,
      );
    }
    return;
  }
  if (!(payload instanceof Uint8Array)) {
    throw invalidArgType('payload', 'of type string or an instance of Uint8Array', payload);
  }
}

function firstLoneSurrogate(s: string): number {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) {
      const d = s.charCodeAt(i + 1);
      if (d >= 0xdc00 && d <= 0xdfff) {
        i++;
        continue;
      }
      return i;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return i;
  }
  return -1;
}
