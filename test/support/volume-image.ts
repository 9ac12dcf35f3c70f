import { randomBytes } from 'node:crypto';

const MiB = 1 << 20;

/** 8 MiB: data, a 3 MiB hole, data, a short zero run inside data, data near the end, and a hole at the end. */
export function imageWithHoles(): Buffer {
  const image = Buffer.alloc(8 * MiB);
  randomBytes(MiB).copy(image, 0);
  randomBytes(2 * MiB).copy(image, 4 * MiB);
  image.fill(0, 5 * MiB, 5 * MiB + 8192);
  randomBytes(100_000).copy(image, 7 * MiB - 100_000);
  return image;
}
