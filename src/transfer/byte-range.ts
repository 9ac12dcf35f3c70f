/** One satisfiable range of a resource of `size` bytes: [start, end], both included. */
export interface ByteRange {
  start: bigint;
  end: bigint;
}

/**
 * An HTTP Range header (RFC 9110 §14.1.2) over a resource of `size` bytes: undefined when absent,
 * 'unsatisfiable' when it names nothing inside, 'ignored' for forms the gateway does not serve
 * (several ranges, other units), which are answered in full as the RFC allows.
 */
export function parseRange(
  header: string | null | undefined,
  size: bigint,
): ByteRange | 'unsatisfiable' | 'ignored' | undefined {
  if (header === undefined || header === null) return undefined;
  const m = /^bytes=(\d{0,19})-(\d{0,19})$/.exec(header.trim());
  if (!m) return 'ignored';
  const [, a = '', b = ''] = m;
  if (a === '' && b === '') return 'ignored';
  if (a === '') {
    // The last b bytes.
    const suffix = BigInt(b);
    if (suffix === 0n || size === 0n) return 'unsatisfiable';
    return { start: suffix >= size ? 0n : size - suffix, end: size - 1n };
  }
  const start = BigInt(a);
  if (start >= size) return 'unsatisfiable';
  const end = b === '' ? size - 1n : BigInt(b);
  if (end < start) return 'ignored';
  return { start, end: end >= size ? size - 1n : end };
}
