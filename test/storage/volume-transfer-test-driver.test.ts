import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// The test driver has volumes but no volume streams: URLs are issued and checked as on any host,
// and the request then fails with libvirt's own refusal, typed.
const tokens = { admin: createApiToken(), viewer: createApiToken() };
const bearer = (who: keyof typeof tokens) => ({ authorization: `Bearer ${tokens[who].secret}` });
const ISSUE = (verb: string) =>
  `mutation { ${verb}Volume(input: { volume: { path: "/default-pool/web.img" } }) { url path method operation { id } } }`;

describe('volume transfers on the test driver', () => {
  let gw: TestGateway;
  let base: string;

  beforeAll(async () => {
    gw = await startGateway({ fixture: fixtureUri }, undefined, {
      config: {
        auth: {
          tokens: Object.entries(tokens).map(([name, t]) => ({ name, sha256: t.sha256 })),
          grants: [
            { identity: 'admin', role: 'admin' },
            { identity: 'viewer', role: 'viewer' },
          ],
        },
        images: { allowedUrls: ['https://images.example.com/debian/'] },
      },
    });
    base = (await gw.app.start()).replace('/graphql', '');
  });
  afterAll(async () => {
    await gw?.close();
  });

  it('refuses the mutations without credentials (401) and without Storage.Allocate', async () => {
    const res = await gw.app.yoga.fetch('http://localhost/graphql', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ query: ISSUE('upload') }),
    });
    expect(res.status).toBe(401);
    for (const verb of ['upload', 'download']) {
      const viewer = await gw.query(ISSUE(verb), undefined, bearer('viewer'));
      expect(viewer.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    }
  });

  it('a transfer the driver cannot stream fails typed, with libvirt’s message', async () => {
    const res = await gw.query<{ downloadVolume: { path: string; method: string; operation: { id: string } } }>(
      ISSUE('download'),
      undefined,
      bearer('admin'),
    );
    expect(res.errors).toBeUndefined();
    const t = res.data?.downloadVolume as { path: string; method: string; operation: { id: string } };
    expect(t.method).toBe('GET');
    const got = await fetch(`${base}${t.path}`, { headers: bearer('admin') });
    expect(got.status).toBeGreaterThanOrEqual(400);
    const body = (await got.json()) as { errors: Array<{ extensions: { code: string } }> };
    expect(body.errors[0]?.extensions.code).toMatch(/LIBVIRT_ERROR|UNSUPPORTED/);
    const op = await gw.query<{ operation: { status: string; errorCode: string; errorMessage: string } }>(
      `query ($id: ID!) { operation(id: $id) { status errorCode errorMessage } }`,
      { id: t.operation.id },
      bearer('admin'),
    );
    expect(op.data?.operation.status).toBe('FAILED');
    expect(op.data?.operation.errorMessage).toMatch(/support/i);
  });

  it('importVolume refuses URLs outside images.allowedUrls before touching the pool', async () => {
    for (const url of [
      'https://images.example.com.evil/debian/x.raw',
      'https://images.example.com/debian-x/x.raw',
      'https://allowed.example@images.example.com/debian/x.raw',
      'http://images.example.com/debian/x.raw',
      'http://2130706433/debian/x.raw',
      'http://[::ffff:127.0.0.1]/debian/x.raw',
    ]) {
      const res = await gw.query(
        `mutation ($url: String!) { importVolume(input: { pool: "default-pool", name: "new.img", url: $url }) { id } }`,
        { url },
        bearer('admin'),
      );
      expect([url, res.errors?.[0]?.extensions?.code]).toEqual([url, 'UNSAFE_INPUT']);
    }
  });
});
