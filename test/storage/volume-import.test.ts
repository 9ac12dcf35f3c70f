import { createHash } from 'node:crypto';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { createServer, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import type { Connection, StoragePool, Volume } from '../../src/libvirt/index.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { DIR_POOL, openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';
import { runCommand } from '../support/run-command.ts';
import { imageWithHoles } from '../support/volume-image.ts';

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the volume import cases: ${skip}`);

const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const NAMES = [
  'virtql-import.raw',
  'virtql-import-bad.raw',
  'virtql-import-slow.raw',
  'virtql-import-out.raw',
  'virtql-import.qcow2',
];

interface Op {
  id: string;
  status: string;
  errorCode: string | null;
  errorMessage: string | null;
  transfer: { bytesDone: string; bytesTotal: string | null; sha256: string | null; volume: { name: string } | null };
}
const OP_FIELDS = 'id status errorCode errorMessage transfer { bytesDone bytesTotal sha256 volume { name } }';

async function readAll(volume: Volume): Promise<Buffer> {
  const down = await volume.download({ offset: 0n, length: 0n });
  const parts: Buffer[] = [];
  for (let piece = await down.read(Buffer.alloc(1 << 20)); piece; piece = await down.read(Buffer.alloc(1 << 20))) {
    parts.push('hole' in piece ? Buffer.alloc(Number(piece.hole)) : piece.data);
  }
  await down.finish();
  return Buffer.concat(parts);
}

describe.skipIf(skip !== undefined)('importVolume from a local HTTP server on a private libvirtd', () => {
  let gw: TestGateway;
  let c: Connection;
  let pool: StoragePool;
  let server: Server;
  let port: number;
  const image = imageWithHoles();
  /** A qcow2 made by qemu-img, 32 MiB virtual, served as /images/disk.qcow2. */
  let qcow2 = Buffer.alloc(0);
  const stalled: ServerResponse[] = [];
  const audit: AuditRecord[] = [];

  async function start(name: string, path: string, extra = ''): Promise<Op> {
    const res = await gw.query<{ importVolume: Op }>(
      `mutation ($url: String!) { importVolume(input: { host: "qemu", pool: "${DIR_POOL}", name: "${name}", url: $url${extra} }) { ${OP_FIELDS} } }`,
      { url: `http://127.0.0.1:${port}${path}` },
    );
    expect(res.errors).toBeUndefined();
    return (res.data as { importVolume: Op }).importVolume;
  }

  async function read(id: string): Promise<Op> {
    const res = await gw.query<{ operation: Op }>(`query ($id: ID!) { operation(id: $id) { ${OP_FIELDS} } }`, { id });
    return res.data?.operation as Op;
  }

  async function settled(id: string): Promise<Op> {
    for (;;) {
      const op = await read(id);
      if (op.status !== 'RUNNING') return op;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  const exists = (name: string) =>
    pool
      .volumeByName(name)
      .then(() => true)
      .catch(() => false);

  beforeAll(async () => {
    server = createServer((req, res) => {
      if (req.url === '/images/disk.raw') {
        res.writeHead(200, { 'content-length': String(image.length) });
        res.end(image);
      } else if (req.url === '/images/disk.qcow2') {
        res.writeHead(200, { 'content-length': String(qcow2.length) });
        res.end(qcow2);
      } else if (req.url === '/images/via-redirect') {
        res.writeHead(302, { location: '/images/disk.raw' });
        res.end();
      } else if (req.url === '/images/redirect-out') {
        res.writeHead(302, { location: `http://localhost:${port}/images/disk.raw` });
        res.end();
      } else if (req.url === '/images/slow.raw') {
        res.writeHead(200, { 'content-length': String(image.length) });
        res.write(image.subarray(0, 2 << 20));
        stalled.push(res);
      } else {
        res.writeHead(404);
        res.end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
    const dir = await mkdtemp(join(tmpdir(), 'virtql-import-'));
    try {
      await runCommand('qemu-img', ['create', '-q', '-f', 'qcow2', join(dir, 'disk.qcow2'), '32M']);
      qcow2 = await readFile(join(dir, 'disk.qcow2'));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    gw = await startGateway({ qemu: daemon.uri }, undefined, {
      config: { images: { allowedUrls: [`http://127.0.0.1:${port}/images/`] } },
    });
    c = await openPrivateDaemon();
    pool = await c.storagePoolByName(DIR_POOL);
    for (const name of NAMES) await (await pool.volumeByName(name).catch(() => undefined))?.delete();
    const it = gw.app.audit.subscribe();
    void (async () => {
      for await (const r of it) audit.push(r);
    })();
  });
  afterAll(async () => {
    for (const res of stalled) res.destroy();
    for (const name of NAMES) await (await pool?.volumeByName(name).catch(() => undefined))?.delete();
    await gw?.close();
    await c?.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  it('imports an image through a redirect inside the prefix: bytes, sha256, the volume, the audit', async () => {
    const started = await start(NAMES[0] as string, '/images/via-redirect', `, sha256: "${sha256(image)}"`);
    expect(started.status).toBe('RUNNING');
    const op = await settled(started.id);
    expect(op).toMatchObject({
      status: 'COMPLETED',
      transfer: { bytesDone: String(image.length), sha256: sha256(image), volume: { name: NAMES[0] } },
    });
    const volume = await pool.volumeByName(NAMES[0] as string);
    expect(sha256(await readAll(volume))).toBe(sha256(image));
    expect((await volume.info()).capacityBytes).toBe(BigInt(image.length));
    const record = audit.find((r) => r.operation === 'volumeImportData');
    expect(record).toMatchObject({ result: 'ok', arguments: { bytes: String(image.length), sha256: sha256(image) } });
  });

  it('imports a qcow2 as it is: qemu-img reads the volume as the 32 MiB qcow2 that was served', async () => {
    const name = NAMES[4] as string;
    const op = await settled(
      (await start(name, '/images/disk.qcow2', `, format: "qcow2", sha256: "${sha256(qcow2)}"`)).id,
    );
    expect(op).toMatchObject({ status: 'COMPLETED', transfer: { sha256: sha256(qcow2), volume: { name } } });
    const volume = await pool.volumeByName(name);
    const info = JSON.parse((await runCommand('qemu-img', ['info', '--output=json', '-U', volume.path])).stdout);
    expect(info).toMatchObject({ format: 'qcow2', 'virtual-size': 32 * 2 ** 20 });
    expect((await volume.info()).capacityBytes).toBe(BigInt(32 * 2 ** 20));
    expect(sha256(await readFile(volume.path))).toBe(sha256(qcow2));
  });

  it('a sha256 mismatch fails the import and deletes the volume', async () => {
    const op = await settled((await start(NAMES[1] as string, '/images/disk.raw', `, sha256: "${'0'.repeat(64)}"`)).id);
    expect(op).toMatchObject({ status: 'FAILED', errorCode: 'INVALID_INPUT' });
    expect(op.errorMessage).toContain(sha256(image));
    expect(await exists(NAMES[1] as string)).toBe(false);
  });

  it('cancelOperation stops a running import and deletes the partial volume; operationUpdated carried its bytes', async () => {
    const started = await start(NAMES[2] as string, '/images/slow.raw');
    // Followed over SSE from the start: the stream ends with the operation.
    const events = Promise.resolve(
      gw.app.yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: { 'content-type': 'application/json', accept: 'text/event-stream' },
        body: JSON.stringify({
          query: 'subscription ($id: ID!) { operationUpdated(id: $id) { status transfer { bytesDone bytesTotal } } }',
          variables: { id: started.id },
        }),
      }),
    ).then((res: Response) => res.text());
    for (let op = await read(started.id); BigInt(op.transfer.bytesDone) === 0n; op = await read(started.id)) {
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(await exists(NAMES[2] as string)).toBe(true);
    const cancel = await gw.query(`mutation ($id: ID!) { cancelOperation(input: { id: $id }) { status } }`, {
      id: started.id,
    });
    expect(cancel.errors).toBeUndefined();
    const op = await settled(started.id);
    expect(op.status).toBe('CANCELLED');
    expect(await exists(NAMES[2] as string)).toBe(false);
    const updates = (await events)
      .split('\n')
      .filter((line) => line.startsWith('data: '))
      .map((line) => JSON.parse(line.slice(6)) as { data?: { operationUpdated: Op } })
      .map((e) => e.data?.operationUpdated)
      .filter((u) => u !== undefined);
    expect(updates.some((u) => u.status === 'RUNNING' && BigInt(u.transfer.bytesDone) >= 2n << 20n)).toBe(true);
    expect(updates.some((u) => u.transfer.bytesTotal === String(image.length))).toBe(true);
    expect(updates.at(-1)?.status).toBe('CANCELLED');
  });

  it('refuses a redirect out of the prefix, and URLs outside it before fetching anything', async () => {
    const op = await settled((await start(NAMES[3] as string, '/images/redirect-out')).id);
    expect(op).toMatchObject({ status: 'FAILED', errorCode: 'UNSAFE_INPUT' });
    expect(await exists(NAMES[3] as string)).toBe(false);
    for (const url of [
      `http://localhost:${port}/images/disk.raw`,
      `http://127.0.0.1:${port}/secret`,
      `http://allowed.example@127.0.0.1:${port}/images/disk.raw`,
      `http://127.0.0.1:${port}.evil.example/images/disk.raw`,
      `file:///etc/passwd`,
    ]) {
      const res = await gw.query(
        `mutation ($url: String!) { importVolume(input: { host: "qemu", pool: "${DIR_POOL}", name: "x.raw", url: $url }) { id } }`,
        { url },
      );
      expect([url, res.errors?.[0]?.extensions?.code]).toEqual([
        url,
        expect.stringMatching(/UNSAFE_INPUT|INVALID_INPUT/),
      ]);
    }
  });
});
