/**
 * A small ISO 9660 writer for a flat set of small files (a NoCloud seed): one root directory,
 * the primary volume with ISO 9660 level 2 names (upper case, `_` for anything else) and a
 * Joliet volume with the files' own names, both pointing at the same data. ECMA-119 (ISO 9660)
 * and the Joliet specification are the reference; tests read the result back with isoinfo and
 * xorriso, and the tiny guest's Linux mounts it.
 */

const SECTOR = 2048;

export interface IsoFile {
  /** The file's name: letters, digits, `-`, `_` and `.`, at most 64 characters. */
  name: string;
  data: Buffer;
}

export interface IsoOptions {
  /** The volume label (blkid's LABEL), e.g. cidata: at most 16 characters. */
  label: string;
  files: IsoFile[];
  /** Recorded as the volume's and the files' dates. @default now */
  date?: Date;
}

const both16 = (b: Buffer, at: number, v: number) => {
  b.writeUInt16LE(v, at);
  b.writeUInt16BE(v, at + 2);
};
const both32 = (b: Buffer, at: number, v: number) => {
  b.writeUInt32LE(v, at);
  b.writeUInt32BE(v, at + 4);
};

/** A text field: a-characters padded with spaces, or UCS-2BE padded with UCS-2 spaces (Joliet). */
function text(value: string, length: number, joliet: boolean): Buffer {
  const out = Buffer.alloc(length, 0x20);
  if (!joliet) {
    out.write(value.slice(0, length), 'latin1');
    return out;
  }
  for (let i = 0; i + 1 < length; i += 2) out.writeUInt16BE(i / 2 < value.length ? value.charCodeAt(i / 2) : 0x20, i);
  return out;
}

/** The 17-byte date of a volume descriptor: digits to the hundredth of a second, GMT offset 0. */
function volumeDate(d: Date): Buffer {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const digits = `${p(d.getUTCFullYear(), 4)}${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}00`;
  return Buffer.concat([Buffer.from(digits, 'latin1'), Buffer.from([0])]);
}

/** The 7-byte date of a directory record. */
function recordDate(d: Date): Buffer {
  return Buffer.from([
    d.getUTCFullYear() - 1900,
    d.getUTCMonth() + 1,
    d.getUTCDate(),
    d.getUTCHours(),
    d.getUTCMinutes(),
    d.getUTCSeconds(),
    0,
  ]);
}

function directoryRecord(name: Buffer, extent: number, size: number, directory: boolean, date: Date): Buffer {
  const length = 33 + name.length + (name.length % 2 === 0 ? 1 : 0);
  const r = Buffer.alloc(length);
  r[0] = length;
  both32(r, 2, extent);
  both32(r, 10, size);
  recordDate(date).copy(r, 18);
  r[25] = directory ? 2 : 0;
  both16(r, 28, 1);
  r[32] = name.length;
  name.copy(r, 33);
  return r;
}

/** ISO 9660 level 2: d-characters (A–Z, 0–9, _), a dot, version 1. */
function primaryName(name: string): Buffer {
  const upper = name.toUpperCase().replace(/[^A-Z0-9_.]/g, '_');
  const dot = upper.lastIndexOf('.');
  const [stem, ext] = dot < 0 ? [upper, ''] : [upper.slice(0, dot).replaceAll('.', '_'), upper.slice(dot + 1)];
  return Buffer.from(`${stem.slice(0, 30 - ext.length)}.${ext};1`, 'latin1');
}

function jolietName(name: string): Buffer {
  const b = Buffer.alloc(name.length * 2);
  for (let i = 0; i < name.length; i++) b.writeUInt16BE(name.charCodeAt(i), i * 2);
  return b;
}

function pathTable(rootExtent: number, bigEndian: boolean): Buffer {
  const t = Buffer.alloc(10);
  t[0] = 1;
  if (bigEndian) t.writeUInt32BE(rootExtent, 2);
  else t.writeUInt32LE(rootExtent, 2);
  if (bigEndian) t.writeUInt16BE(1, 6);
  else t.writeUInt16LE(1, 6);
  return t;
}

function sectors(bytes: number): number {
  return Math.ceil(bytes / SECTOR);
}

/** The image: system area, descriptors, path tables, two root directories, then the files. */
export function buildIso(options: IsoOptions): Buffer {
  const date = options.date ?? new Date();
  if (!/^[A-Za-z0-9_-]{1,16}$/.test(options.label)) throw new RangeError(`bad volume label ${options.label}`);
  const names = new Set<string>();
  for (const f of options.files) {
    if (!/^[A-Za-z0-9._-]{1,64}$/.test(f.name)) throw new RangeError(`bad file name ${f.name}`);
    if (names.has(primaryName(f.name).toString('latin1'))) throw new RangeError(`two files named like ${f.name}`);
    names.add(primaryName(f.name).toString('latin1'));
  }
  // Sectors 0–15 system area, 16 primary, 17 Joliet, 18 terminator, 19–22 path tables, 23–24 roots.
  const [pvdRoot, jolietRoot] = [23, 24];
  let next = 25;
  const placed = options.files.map((f) => {
    const extent = f.data.length === 0 ? 0 : next;
    next += sectors(f.data.length);
    return { ...f, extent };
  });
  const total = next;
  const image = Buffer.alloc(total * SECTOR);

  const root = (joliet: boolean) => {
    const self = joliet ? jolietRoot : pvdRoot;
    const files = [...placed]
      .map((f) => ({ f, name: joliet ? jolietName(f.name) : primaryName(f.name) }))
      .sort((a, b) => Buffer.compare(a.name, b.name));
    const records = [
      directoryRecord(Buffer.from([0]), self, SECTOR, true, date),
      directoryRecord(Buffer.from([1]), self, SECTOR, true, date),
      ...files.map(({ f, name }) => directoryRecord(name, f.extent, f.data.length, false, date)),
    ];
    const body = Buffer.concat(records);
    if (body.length > SECTOR) throw new RangeError('too many files for one directory sector');
    body.copy(image, self * SECTOR);
  };

  const descriptor = (at: number, joliet: boolean) => {
    const d = image.subarray(at * SECTOR, (at + 1) * SECTOR);
    d[0] = joliet ? 2 : 1;
    d.write('CD001', 1, 'latin1');
    d[6] = 1;
    text('LINUX', 32, joliet).copy(d, 8);
    text(joliet ? options.label : options.label, 32, joliet).copy(d, 40);
    both32(d, 80, total);
    if (joliet) d.write('%/E', 88, 'latin1'); // UCS-2 level 3
    both16(d, 120, 1);
    both16(d, 124, 1);
    both16(d, 128, SECTOR);
    both32(d, 132, 10);
    const tables = joliet ? 21 : 19;
    d.writeUInt32LE(tables, 140);
    d.writeUInt32BE(tables + 1, 148);
    directoryRecord(Buffer.from([0]), joliet ? jolietRoot : pvdRoot, SECTOR, true, date).copy(d, 156);
    for (const [offset, length] of [
      [190, 128],
      [318, 128],
      [446, 128],
      [574, 128],
      [702, 37],
      [739, 37],
      [776, 37],
    ] as const) {
      text('', length, joliet).copy(d, offset);
    }
    text('VIRTQL', 128, joliet).copy(d, 446);
    volumeDate(date).copy(d, 813);
    volumeDate(date).copy(d, 830);
    Buffer.concat([Buffer.from('0'.repeat(16), 'latin1'), Buffer.from([0])]).copy(d, 847);
    volumeDate(date).copy(d, 864);
    d[881] = 1;
  };

  descriptor(16, false);
  descriptor(17, true);
  const end = image.subarray(18 * SECTOR);
  end[0] = 255;
  end.write('CD001', 1, 'latin1');
  end[6] = 1;
  pathTable(pvdRoot, false).copy(image, 19 * SECTOR);
  pathTable(pvdRoot, true).copy(image, 20 * SECTOR);
  pathTable(jolietRoot, false).copy(image, 21 * SECTOR);
  pathTable(jolietRoot, true).copy(image, 22 * SECTOR);
  root(false);
  root(true);
  for (const f of placed) f.data.copy(image, f.extent * SECTOR);
  return image;
}
