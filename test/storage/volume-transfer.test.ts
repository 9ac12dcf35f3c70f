import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { request } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import { createApiToken } from '../../src/auth/authenticator.ts';
import type { Connection, StoragePool } from '../../src/libvirt/index.ts';
import { buildVolumeXml } from '../../src/libvirt/xml/volume-xml.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { DIR_POOL, openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';
import { imageWithHoles } from '../support/volume-image.ts';

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the volume transfer cases: ${skip}`);

const MiB = 1 << 20;
const VOLUME = 'virtql-transfer.raw';
const tokens = { admin: createApiToken(), other: createApiToken(), viewer: createApiToken(), tenant: createApiToken() };
const bearer = (who: keyof typeof tokens) => ({ authorization: `Bearer ${tokens[who].secret}` });
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');

interface Transfer {
  url: string;
  path: string;
  method: string;
  expiresAt: string;
  operation: { id: string; kind: string; status: string };
}
interface Op {
  status: string;
  errorCode: string | null;
  errorMessage: string | null;
  transfer: { bytesDone: string; bytesTotal: string | null; sha256: string | null; resumeOffset: string | null };
}

const ISSUE = (verb: 'upload' | 'download', extra = '') =>
  `mutation ($path: String!) { ${verb}Volume(input: { host: "qemu", volume: { path: $path }${extra} }) { url path method expiresAt operation { id kind status } } }`;

describe.skipIf(skip !== undefined)('uploadVolume and downloadVolume over HTTP on a private libvirtd', () => {
  let gw: TestGateway;
  let base: string;
  let c: Connection;
  let pool: StoragePool;
  let path: string;
  const image = imageWithHoles();
  const audit: AuditRecord[] = [];

  async function issue(verb: 'upload' | 'download', extra = '', who: keyof typeof tokens = 'admin') {
    const res = await gw.query<Record<string, Transfer>>(ISSUE(verb, extra), { path }, bearer(who));
    expect(res.errors).toBeUndefined();
    return (res.data as Record<string, Transfer>)[`${verb}Volume`] as Transfer;
  }

  async function settled(id: string): Promise<Op> {
    for (;;) {
      const res = await gw.query<{ operation: Op }>(
        `query ($id: ID!) { operation(id: $id) { status errorCode errorMessage transfer { bytesDone bytesTotal sha256 resumeOffset } } }`,
        { id },
        bearer('admin'),
      );
      const op = res.data?.operation as Op;
      if (op.status !== 'RUNNING') return op;
      await new Promise((r) => setTimeout(r, 20));
    }
  }

  async function download(t: Transfer, headers: Record<string, string> = {}) {
    const res = await fetch(`${base}${t.path}`, { headers: { ...bearer('admin'), ...headers } });
    return { status: res.status, headers: res.headers, body: Buffer.from(await res.arrayBuffer()) };
  }

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    gw = await startGateway({ qemu: daemon.uri }, undefined, {
      config: {
        auth: {
          tokens: Object.entries(tokens).map(([name, t]) => ({ name, sha256: t.sha256 })),
          grants: [
            { identity: 'admin', role: 'admin' },
            { identity: 'other', role: 'admin' },
            { identity: 'viewer', role: 'viewer' },
            { identity: 'tenant', role: 'admin', domains: ['t-*'], pools: ['tenant-pool'], networks: ['tenant-net'] },
          ],
        },
      },
    });
    base = (await gw.app.start()).replace('/graphql', '');
    c = await openPrivateDaemon();
    pool = await c.storagePoolByName(DIR_POOL);
    await (await pool.volumeByName(VOLUME).catch(() => undefined))?.delete();
    const volume = await pool.createVolume(
      buildVolumeXml({ name: VOLUME, capacityBytes: BigInt(image.length), allocationBytes: 0n, format: 'raw' }),
    );
    path = volume.path;
    const it = gw.app.audit.subscribe();
    void (async () => {
      for await (const r of it) audit.push(r);
    })();
  });
  afterAll(async () => {
    await (await pool?.volumeByName(VOLUME).catch(() => undefined))?.delete();
    await gw?.close();
    await c?.close();
  });

  it('uploads data and holes, then downloads them byte for byte, with bytes and sha256 in the operation and the audit', async () => {
    const up = await issue('upload', ', sparse: true');
    expect(up.method).toBe('PUT');
    expect(up.path).toMatch(/^\/volume-data\/[A-Za-z0-9_-]{43}$/);
    expect(up.operation).toMatchObject({ kind: 'VOLUME_UPLOAD', status: 'RUNNING' });
    const put = await fetch(`${base}${up.path}`, {
      method: 'PUT',
      body: new Uint8Array(image),
      headers: bearer('admin'),
    });
    expect(put.status).toBe(200);
    expect(await put.json()).toEqual({ bytes: String(image.length), sha256: sha256(image), offset: '0' });
    const op = await settled(up.operation.id);
    expect(op).toMatchObject({
      status: 'COMPLETED',
      transfer: { bytesDone: String(image.length), sha256: sha256(image) },
    });

    const down = await issue('download');
    const got = await download(down);
    expect(got.status).toBe(200);
    expect(got.headers.get('content-length')).toBe(String(image.length));
    expect(sha256(got.body)).toBe(sha256(image));
    expect((await settled(down.operation.id)).transfer.sha256).toBe(sha256(image));
    const records = audit.filter((r) => r.operation === 'volumeUploadData' || r.operation === 'volumeDownloadData');
    expect(records.map((r) => [r.operation, r.result, r.arguments.bytes, r.arguments.sha256])).toEqual([
      ['volumeUploadData', 'ok', String(image.length), sha256(image)],
      ['volumeDownloadData', 'ok', String(image.length), sha256(image)],
    ]);
  });

  it('a cut upload keeps what arrived and says where to resume; the resumed upload completes the volume', async () => {
    await (await pool.volumeByName(VOLUME)).wipe('ZERO');
    const up = await issue('upload');
    const half = 5 * MiB + 12_345;
    await new Promise<void>((resolve) => {
      const req = request(`${base}${up.path}`, {
        method: 'PUT',
        headers: { ...bearer('admin'), 'content-length': String(image.length) },
      });
      req.on('error', () => resolve());
      req.write(image.subarray(0, half), () => setTimeout(() => req.destroy(), 200));
      req.on('close', () => resolve());
    });
    const cut = await settled(up.operation.id);
    expect(cut.status).toBe('FAILED');
    expect(cut.errorCode).toBe('INTERRUPTED');
    expect(cut.errorMessage).toMatch(/cut after \d+ bytes written: resume with offset \d+/);
    const offset = Number(cut.transfer.resumeOffset);
    expect(offset).toBe(Number(cut.transfer.bytesDone));
    expect(offset).toBeGreaterThan(0);
    expect(offset).toBeLessThanOrEqual(half);

    const rest = await issue('upload', `, offset: "${offset}"`);
    const put = await fetch(`${base}${rest.path}`, {
      method: 'PUT',
      body: new Uint8Array(image.subarray(offset)),
      headers: bearer('admin'),
    });
    expect(put.status).toBe(200);
    expect((await settled(rest.operation.id)).status).toBe('COMPLETED');
    const back = await download(await issue('download'));
    expect(sha256(back.body)).toBe(sha256(image));
  });

  it('a cut download aborts the stream; a Range request resumes it (206, Content-Range)', async () => {
    const down = await issue('download');
    const first = await new Promise<Buffer>((resolve, reject) => {
      const req = request(`${base}${down.path}`, { headers: bearer('admin') }, (res) => {
        const parts: Buffer[] = [];
        let n = 0;
        res.on('data', (d: Buffer) => {
          parts.push(d);
          n += d.length;
          if (n >= 3 * MiB) {
            res.destroy();
            resolve(Buffer.concat(parts));
          }
        });
      });
      req.on('error', reject);
      req.end();
    });
    const cut = await settled(down.operation.id);
    expect(cut).toMatchObject({ status: 'FAILED', errorCode: 'INTERRUPTED' });
    expect(cut.errorMessage).toMatch(/cut after \d+ bytes sent/);

    const again = await issue('download');
    const rest = await download(again, { range: `bytes=${first.length}-` });
    expect(rest.status).toBe(206);
    expect(rest.headers.get('content-range')).toBe(`bytes ${first.length}-${image.length - 1}/${image.length}`);
    expect(sha256(Buffer.concat([first, rest.body]))).toBe(sha256(image));
    const beyond = await download(await issue('download'), { range: `bytes=${image.length}-` });
    expect(beyond.status).toBe(416);
  });

  it('downloads a window from an offset', async () => {
    const t = await issue('download', `, offset: "${4 * MiB}", length: "4096"`);
    const got = await download(t);
    expect(got.body.equals(image.subarray(4 * MiB, 4 * MiB + 4096))).toBe(true);
  });

  it('downloads a qcow2 as its file is (header and clusters), not cut or padded to its capacity', async () => {
    const name = 'virtql-transfer.qcow2';
    await (await pool.volumeByName(name).catch(() => undefined))?.delete();
    const qcow2 = await pool.createVolume(buildVolumeXml({ name, capacityBytes: 64n * BigInt(MiB), format: 'qcow2' }));
    try {
      const file = await readFile(qcow2.path);
      expect(file.length).toBeLessThan(64 * MiB);
      const res = await gw.query<Record<string, Transfer>>(ISSUE('download'), { path: qcow2.path }, bearer('admin'));
      expect(res.errors).toBeUndefined();
      const got = await download((res.data as Record<string, Transfer>).downloadVolume as Transfer);
      expect(got.status).toBe(200);
      expect(got.headers.get('content-length')).toBe(String(file.length));
      expect(got.body.subarray(0, 4).toString('latin1')).toBe('QFI\xfb');
      expect(sha256(got.body)).toBe(sha256(file));
    } finally {
      await qcow2.delete();
    }
  });

  it('a URL serves once, only its identity, only with credentials, only at its exact path', async () => {
    const t = await issue('download', `, length: "4096"`);
    const spellings = [
      `${t.path}/`,
      `/${t.path}`,
      t.path.toUpperCase(),
      `${t.path}?x=1`,
      t.path.replace(/\/volume-data\/(.)/, (_m, ch: string) => `/volume-data/%${ch.charCodeAt(0).toString(16)}`),
    ];
    for (const p of spellings) {
      const res = await fetch(`${base}${p}`, { headers: bearer('admin') });
      expect([p, res.status]).toEqual([p, 404]);
    }
    expect((await fetch(`${base}${t.path}`)).status).toBe(401);
    expect((await fetch(`${base}${t.path}`, { method: 'DELETE', headers: bearer('admin') })).status).toBe(405);
    // None of the above used the ticket.
    expect((await download(t)).status).toBe(200);
    expect((await download(t)).status).toBe(404);

    const stolen = await issue('download', `, length: "4096"`);
    const res = await fetch(`${base}${stolen.path}`, { headers: bearer('other') });
    expect(res.status).toBe(403);
    const op = await settled(stolen.operation.id);
    expect(op).toMatchObject({ status: 'FAILED', errorCode: 'FORBIDDEN' });
    expect((await download(stolen)).status).toBe(404);

    const wrongMethod = await issue('download', `, length: "4096"`);
    expect(
      (await fetch(`${base}${wrongMethod.path}`, { method: 'PUT', body: 'x', headers: bearer('admin') })).status,
    ).toBe(405);
  });

  it('refuses a body past the window, and offsets or lengths outside the volume', async () => {
    const t = await issue('upload', `, offset: "${image.length - 10}"`);
    const res = await fetch(`${base}${t.path}`, { method: 'PUT', body: Buffer.alloc(11), headers: bearer('admin') });
    expect(res.status).toBe(400);
    expect((await settled(t.operation.id)).errorCode).toBe('INVALID_INPUT');
    for (const extra of [`, offset: "${image.length}"`, `, offset: "-1"`, `, length: "${image.length + 1}"`]) {
      const r = await gw.query(ISSUE('upload', extra), { path }, bearer('admin'));
      expect(r.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
    }
  });

  it('needs Storage.Allocate and Storage.Use on the pool; a pool out of sight is NOT_FOUND', async () => {
    const viewer = await gw.query(ISSUE('download'), { path }, bearer('viewer'));
    expect(viewer.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      privilege: expect.stringMatching(/^Storage\.(Allocate|Use)$/),
    });
    for (const verb of ['upload', 'download'] as const) {
      const tenant = await gw.query(ISSUE(verb), { path }, bearer('tenant'));
      expect(tenant.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    }
  });
});
