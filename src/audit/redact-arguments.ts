import { createHash } from 'node:crypto';

/** What stays of an XML body or a secret in an audit record: enough to compare, nothing to read. */
export interface Digest {
  sha256: string;
  bytes: number;
}

const SECRET_NAME = /pass(word|phrase)|secret|token|credential|authorization|private/i;
const XML_NAME = /xml/i;
// A string starting with an XML declaration or element is a document, whatever its argument's name.
const XML_TEXT = /^\s*<[?!A-Za-z]/;

export function digestOf(text: string): Digest {
  const bytes = Buffer.from(text, 'utf8');
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

function redact(value: unknown, name: string): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    return SECRET_NAME.test(name) || XML_NAME.test(name) || XML_TEXT.test(value) ? digestOf(value) : value;
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => redact(v, name));
  if (typeof value === 'object') {
    if (SECRET_NAME.test(name))
      return digestOf(JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v)));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}

/** A mutation's arguments as JSON an audit record can keep: XML bodies and secrets become {@link Digest}s. */
export function redactArguments(args: Record<string, unknown>): Record<string, unknown> {
  return Object.fromEntries(Object.entries(args).map(([k, v]) => [k, redact(v, k)]));
}
