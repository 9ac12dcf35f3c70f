import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { apiToken, httpsPost, listenSecured, type SecuredGateway, wsConnect, wsQuery } from './auth-clients.ts';

const openssl = (cwd: string, ...args: string[]) => promisify(execFile)('openssl', args, { cwd });
const HOSTS = '{ hosts { name } }';
const EC = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:P-256', '-nodes'];

/** A self-signed CA in `dir`: NAME.crt and NAME.key. */
async function makeCa(dir: string, name: string): Promise<void> {
  await openssl(
    dir,
    'req',
    '-x509',
    ...EC,
    '-keyout',
    `${name}.key`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-subj',
    `/CN=${name}`,
    '-addext',
    'basicConstraints=critical,CA:TRUE',
    '-addext',
    'keyUsage=critical,keyCertSign',
  );
}

/** A leaf certificate NAME.crt/NAME.key signed by CA, with the given X.509 extensions. */
async function makeLeaf(dir: string, name: string, ca: string, extensions: string): Promise<void> {
  await writeFile(join(dir, `${name}.ext`), extensions);
  await openssl(dir, 'req', ...EC, '-keyout', `${name}.key`, '-out', `${name}.csr`, '-subj', `/CN=${name}`);
  await openssl(
    dir,
    'x509',
    '-req',
    '-in',
    `${name}.csr`,
    '-CA',
    `${ca}.crt`,
    '-CAkey',
    `${ca}.key`,
    // A serial of its own: leaves are signed in parallel, and a shared ca.srl read while
    // another openssl writes it fails with "short line".
    '-set_serial',
    `0x${randomBytes(16).toString('hex')}`,
    '-out',
    `${name}.crt`,
    '-days',
    '2',
    '-extfile',
    `${name}.ext`,
  );
}

/** The SHA-256 fingerprint as `openssl x509 -fingerprint` prints it (colon-separated upper-case hex). */
async function fingerprint(dir: string, name: string): Promise<string> {
  const { stdout } = await openssl(dir, 'x509', '-noout', '-fingerprint', '-sha256', '-in', `${name}.crt`);
  return stdout.trim().split('=')[1] as string;
}

describe('HTTPS with a self-made CA and client certificates', () => {
  let dir: string;
  let gw: SecuredGateway;
  const pem: Record<string, Buffer> = {};
  const alice = apiToken('alice');
  const as = (name: string) => ({ ca: pem['ca.crt'] as Buffer, cert: pem[`${name}.crt`], key: pem[`${name}.key`] });

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'virtql-tls-'));
    await Promise.all([makeCa(dir, 'ca'), makeCa(dir, 'other-ca')]);
    await Promise.all([
      makeLeaf(dir, 'server', 'ca', 'subjectAltName=IP:127.0.0.1,DNS:localhost\nextendedKeyUsage=serverAuth\n'),
      makeLeaf(dir, 'ops-laptop', 'ca', 'extendedKeyUsage=clientAuth\n'),
      makeLeaf(dir, 'unmapped', 'ca', 'extendedKeyUsage=clientAuth\n'),
      makeLeaf(dir, 'stranger', 'other-ca', 'extendedKeyUsage=clientAuth\n'),
    ]);
    for (const name of ['ca', 'ops-laptop', 'unmapped', 'stranger']) {
      for (const ext of ['crt', 'key']) pem[`${name}.${ext}`] = await readFile(join(dir, `${name}.${ext}`));
    }
    gw = await listenSecured(
      { default: 'test:///default' },
      {
        // Relative paths resolve against the config file's directory.
        tls: { cert: 'server.crt', key: 'server.key', clientCa: 'ca.crt' },
        auth: {
          tokens: [alice.entry],
          certificates: [{ name: 'ops-laptop', fingerprint256: await fingerprint(dir, 'ops-laptop') }],
          grants: [
            { identity: 'ops-laptop', role: 'admin' },
            { identity: 'alice', role: 'admin' },
          ],
        },
      },
      dir,
    );
  });
  afterAll(async () => {
    await gw?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('serves HTTPS', () => {
    expect(gw.url).toMatch(/^https:\/\/127\.0\.0\.1:\d+\/graphql$/);
  });

  it('a client certificate mapped by fingerprint is an identity on its own, without a bearer token', async () => {
    expect(await httpsPost(gw.url, HOSTS, as('ops-laptop'))).toEqual({
      status: 200,
      body: { extensions: { cost: expect.any(Object) }, data: { hosts: [{ name: 'default' }] } },
    });
  });

  it('without a certificate or a token: 401', async () => {
    const res = await httpsPost(gw.url, HOSTS, { ca: pem['ca.crt'] as Buffer });
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]?.extensions?.code).toBe('UNAUTHENTICATED');
  });

  it('a certificate from another CA is not accepted, and the answer says why', async () => {
    const res = await httpsPost(gw.url, HOSTS, as('stranger'));
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]).toEqual({
      message: expect.stringMatching(/client certificate: not verified against tls\.clientCa/),
      extensions: { code: 'INVALID_TOKEN' },
    });
  });

  it('a certificate of the CA that no identity maps to is refused', async () => {
    const res = await httpsPost(gw.url, HOSTS, as('unmapped'));
    expect(res.status).toBe(401);
    expect(res.body.errors?.[0]).toEqual({
      message: expect.stringMatching(/not mapped to any identity/),
      extensions: { code: 'INVALID_TOKEN' },
    });
  });

  it('a bearer token works over HTTPS without a certificate, and a bad one is not rescued by a good certificate', async () => {
    const token = await httpsPost(gw.url, HOSTS, { ca: pem['ca.crt'] as Buffer }, { authorization: alice.bearer });
    expect(token.status).toBe(200);
    const bad = await httpsPost(gw.url, HOSTS, as('ops-laptop'), { authorization: 'Bearer vq_nope' });
    expect(bad.status).toBe(401);
  });

  it('graphql-ws over wss: the client certificate alone authenticates the socket; another CA closes it with 4401', async () => {
    const ws = wsConnect(gw.wsUrl, undefined, as('ops-laptop'));
    expect(await wsQuery(ws.client, HOSTS)).toEqual({
      extensions: { cost: expect.any(Object) },
      data: { hosts: [{ name: 'default' }] },
    });
    await ws.client.dispose();
    const stranger = wsConnect(gw.wsUrl, undefined, as('stranger'));
    void wsQuery(stranger.client, HOSTS).catch(() => undefined);
    expect(await stranger.closed).toMatchObject({
      code: 4401,
      reason: expect.stringMatching(/^INVALID_TOKEN: client certificate/),
    });
  });
});
