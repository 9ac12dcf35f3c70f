import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, StoragePool } from '../../src/libvirt/index.ts';
import { bindingCalls } from '../../src/libvirt/native.ts';
import { buildVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import { DIR_POOL, openPrivateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';
import { imageWithHoles } from '../support/volume-image.ts';

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the volume stream cases: ${skip}`);

const MiB = 1 << 20;
const NAME = 'virtql-stream.raw';

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

describe.skipIf(skip !== undefined)('volume upload and download through libvirt streams (port)', () => {
  let c: Connection;
  let pool: StoragePool;
  /** Uploaded by the first case, read back by the others. */
  const image = imageWithHoles();

  beforeAll(async () => {
    c = await openPrivateDaemon();
    pool = await c.storagePoolByName(DIR_POOL);
    await (await pool.volumeByName(NAME).catch(() => undefined))?.delete();
  });
  afterAll(async () => {
    await (await pool?.volumeByName(NAME).catch(() => undefined))?.delete();
    await c?.close();
  });

  it('round-trips data and holes byte for byte, holes sent and received as holes', async () => {
    const volume = await pool.createVolume(
      buildVolumeXml({ name: NAME, capacityBytes: BigInt(image.length), allocationBytes: 0n, format: 'raw' }),
    );
    const up = await volume.upload({ offset: 0n, length: 0n }, { sparse: true });
    for (let at = 0; at < image.length; at += 300_000) await up.write(image.subarray(at, at + 300_000));
    expect(up.sha256()).toBe(sha256(image));
    await up.finish(true);

    const down = await volume.download({ offset: 0n, length: 0n });
    const parts: Buffer[] = [];
    let holes = 0n;
    for (let piece = await down.read(Buffer.alloc(MiB)); piece; piece = await down.read(Buffer.alloc(MiB))) {
      if ('hole' in piece) {
        holes += piece.hole;
        parts.push(Buffer.alloc(Number(piece.hole)));
      } else parts.push(piece.data);
    }
    await down.finish();
    const back = Buffer.concat(parts);
    expect(back.length).toBe(image.length);
    expect(sha256(back)).toBe(sha256(image));
    expect(down.sha256()).toBe(sha256(image));
    expect(holes).toBeGreaterThanOrEqual(BigInt(3 * MiB));
    expect((await volume.info()).allocationBytes).toBeLessThan(BigInt(6 * MiB));
  });

  it('reads a range window by window (one stream each) as one: the same bytes, holes and sha256', async () => {
    const volume = await pool.volumeByName(NAME);
    const start = 3 * MiB + 123;
    const length = image.length - start - 77;
    const calls = bindingCalls.byName.get('storageVolDownload') ?? 0;
    const down = await volume.download({ offset: BigInt(start), length: BigInt(length) }, BigInt(MiB));
    const parts: Buffer[] = [];
    for (let piece = await down.read(Buffer.alloc(300_000)); piece; piece = await down.read(Buffer.alloc(300_000))) {
      parts.push('hole' in piece ? Buffer.alloc(Number(piece.hole)) : piece.data);
    }
    await down.finish();
    const expected = image.subarray(start, start + length);
    expect(sha256(Buffer.concat(parts))).toBe(sha256(expected));
    expect(down.sha256()).toBe(sha256(expected));
    expect((bindingCalls.byName.get('storageVolDownload') ?? 0) - calls).toBe(Math.ceil(length / MiB));
  });

  it('reads a range from an offset, and an aborted upload leaves the stream usable no more', async () => {
    const volume = await pool.volumeByName(NAME);
    const down = await volume.download({ offset: BigInt(4 * MiB), length: 4096n });
    const into = Buffer.alloc(MiB);
    const piece = await down.read(into);
    expect(piece && 'data' in piece ? piece.data.length : 0).toBe(4096);
    expect(piece && 'data' in piece ? piece.data.buffer : undefined).toBe(into.buffer);
    expect(await down.read(into)).toBeNull();
    await down.finish();
    const up = await volume.upload({ offset: 0n, length: 0n }, { sparse: false });
    await up.write(Buffer.alloc(1000, 1));
    const second = up.write(Buffer.alloc(10, 2));
    await expect(up.write(Buffer.alloc(10))).rejects.toThrow(/one write at a time/);
    expect(() => up.sha256()).toThrow(/between writes/);
    await second;
    expect(up.sha256()).toBe(sha256(Buffer.concat([Buffer.alloc(1000, 1), Buffer.alloc(10, 2)])));
    await up.abort();
    await expect(up.write(Buffer.alloc(10))).rejects.toThrow(/over/);
  });
});
