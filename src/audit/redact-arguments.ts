import { createHash } from 'node:crypto';

/** What stays of an XML body, a secret or a large value in an audit record: enough to compare, nothing to read. */
export interface Digest {
  sha256: string;
  bytes: number;
}

/** The largest argument (a string, or a whole input value as JSON) an audit record keeps as it is. */
export const MAX_ARGUMENT_BYTES = 1024;

/** What an audit record keeps of a secret's value (an argument whose type is marked `secret`). */
export const SECRET_REDACTED = '(secret value, not recorded)';

const SECRET_NAME = /pass(word|phrase)|secret|token|credential|authorization|private/i;
const XML_NAME = /xml/i;
// A string starting with an XML declaration or element is a document, whatever its argument's name.
const XML_TEXT = /^\s*<[?!A-Za-z]/;

export function digestOf(text: string): Digest {
  const bytes = Buffer.from(text, 'utf8');
  return { sha256: createHash('sha256').update(bytes).digest('hex'), bytes: bytes.length };
}

const json = (value: unknown) => JSON.stringify(value, (_k, v) => (typeof v === 'bigint' ? String(v) : v)) ?? 'null';

// Variables nest at most MAX_VARIABLE_DEPTH (src/validation/use-nul-free-arguments.ts) deep.
function redact(value: unknown, name: string): unknown {
  if (value === null || value === undefined) return null;
  if (typeof value === 'string') {
    const digested =
      SECRET_NAME.test(name) ||
      XML_NAME.test(name) ||
      XML_TEXT.test(value) ||
      value.length > MAX_ARGUMENT_BYTES ||
      Buffer.byteLength(value) > MAX_ARGUMENT_BYTES;
    return digested ? digestOf(value) : value;
  }
  if (typeof value === 'bigint') return value.toString();
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return value.map((v) => redact(v, name));
  if (typeof value === 'object') {
    if (SECRET_NAME.test(name)) return digestOf(json(value));
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, redact(v, k)]));
  }
  return value;
}

/**
 * A mutation's arguments as JSON an audit record can keep: XML bodies, secrets and any argument
 * larger than MAX_ARGUMENT_BYTES (a string, or a list or input object as JSON) become {@link Digest}s,
 * so a record stays small whatever a caller sends.
 */
export function redactArguments(
  args: Record<string, unknown>,
  marks: { secret?: ReadonlySet<string>; plain?: ReadonlySet<string> } = {},
): Record<string, unknown> {
  return Object.fromEntries(
    Object.entries(args).map(([k, v]) => {
      // A secret's value: not even a digest, which would let a short one be guessed offline.
      if (marks.secret?.has(k)) return [k, SECRET_REDACTED];
      // A ref whose argument is named like a secret but holds only an id (`secret: { uuid }`).
      const kept = redact(v, marks.plain?.has(k) ? '' : k);
      return [
        k,
        typeof kept === 'object' && Buffer.byteLength(json(kept)) > MAX_ARGUMENT_BYTES ? digestOf(json(v)) : kept,
      ];
    }),
  );
}
