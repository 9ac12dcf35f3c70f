/**
 * A writer for the cpio "newc" format (what `cpio -o -H newc` writes and what the Linux kernel
 * unpacks as an initramfs), so a test image needs no cpio program on the host.
 */

export type CpioEntry =
  | { type: 'dir'; path: string; mode?: number }
  | { type: 'file'; path: string; data: Uint8Array | string; mode?: number }
  | { type: 'symlink'; path: string; target: string }
  | { type: 'char'; path: string; major: number; minor: number; mode?: number };

const S_IFDIR = 0o040000;
const S_IFREG = 0o100000;
const S_IFLNK = 0o120000;
const S_IFCHR = 0o020000;
const TRAILER = 'TRAILER!!!';

function hex8(n: number): string {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new Error(`cpio field out of range: ${n}`);
  return n.toString(16).padStart(8, '0');
}

function padding(length: number): Buffer {
  return Buffer.alloc((4 - (length % 4)) % 4);
}

function record(ino: number, mode: number, path: string, data: Buffer, rdev: [number, number] = [0, 0]): Buffer[] {
  const isDir = (mode & 0o170000) === S_IFDIR;
  const name = Buffer.from(`${path}\0`, 'utf8');
  const header = Buffer.from(
    [
      '070701',
      hex8(ino),
      hex8(mode),
      hex8(0), // uid
      hex8(0), // gid
      hex8(isDir ? 2 : 1), // nlink
      hex8(0), // mtime: fixed, so the same input gives the same archive
      hex8(data.length),
      hex8(0), // devmajor
      hex8(0), // devminor
      hex8(rdev[0]),
      hex8(rdev[1]),
      hex8(name.length),
      hex8(0), // check
    ].join(''),
    'ascii',
  );
  return [header, name, padding(header.length + name.length), data, padding(data.length)];
}

/** The archive, uncompressed; parents must come before their children. */
export function cpioNewc(entries: readonly CpioEntry[]): Buffer {
  const parts: Buffer[] = [];
  let ino = 1;
  for (const e of entries) {
    const path = e.path.replace(/^\/+/, '');
    if (path === '' || path.split('/').includes('..')) throw new Error(`bad cpio path ${JSON.stringify(e.path)}`);
    switch (e.type) {
      case 'dir':
        parts.push(...record(ino++, S_IFDIR | (e.mode ?? 0o755), path, Buffer.alloc(0)));
        break;
      case 'file': {
        const data = typeof e.data === 'string' ? Buffer.from(e.data, 'utf8') : Buffer.from(e.data);
        parts.push(...record(ino++, S_IFREG | (e.mode ?? 0o644), path, data));
        break;
      }
      case 'symlink':
        parts.push(...record(ino++, S_IFLNK | 0o777, path, Buffer.from(e.target, 'utf8')));
        break;
      case 'char':
        parts.push(...record(ino++, S_IFCHR | (e.mode ?? 0o600), path, Buffer.alloc(0), [e.major, e.minor]));
        break;
    }
  }
  parts.push(...record(0, 0, TRAILER, Buffer.alloc(0)));
  return Buffer.concat(parts);
}
