import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

describe('reset, rename, PM wakeup, keys, description and title on the test driver', () => {
  let gw: TestGateway;

  async function ok<D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<D> {
    const res = await gw.query<D>(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data as D;
  }

  async function code(query: string, variables?: Record<string, unknown>) {
    const res = await gw.query(query, variables);
    expect(res.errors).toHaveLength(1);
    return res.errors?.[0]?.extensions as { code: string; field?: string };
  }

  const read = async (name: string) =>
    (
      await ok<{
        domain: { name: string; uuid: string; state: string; description: string | null; title: string | null };
      }>(`{ domain(ref: { name: "${name}" }) { name uuid state description title } }`)
    ).domain;

  beforeEach(async () => {
    gw = await startGateway({ fixture: fixtureUri });
  });
  afterEach(async () => {
    await gw.close();
  });

  it('resets a running domain, which keeps running; a shut-off one is INVALID_STATE', async () => {
    expect(await ok('mutation { resetDomain(input: { domain: { name: "web" } }) { previousState state } }')).toEqual({
      resetDomain: { previousState: 'RUNNING', state: 'RUNNING' },
    });
    expect((await code('mutation { resetDomain(input: { domain: { name: "db" } }) { state } }')).code).toBe(
      'INVALID_STATE',
    );
  });

  it('wakes only a PM-suspended domain', async () => {
    expect((await code('mutation { pmWakeupDomain(input: { domain: { name: "web" } }) { state } }')).code).toBe(
      'INVALID_STATE',
    );
  });

  it('renames a shut-off domain, keeping its UUID; refuses a running one, a taken name and a bad name', async () => {
    const before = await read('db');
    const renamed = await ok<{ renameDomain: { name: string; uuid: string } }>(
      'mutation { renameDomain(input: { domain: { name: "db" }, newName: "db2" }) { name uuid } }',
    );
    expect(renamed.renameDomain).toEqual({ name: 'db2', uuid: before.uuid });
    expect((await code('{ domain(ref: { name: "db" }) { name } }')).code).toBe('NOT_FOUND');

    expect(
      (await code('mutation { renameDomain(input: { domain: { name: "web" }, newName: "web2" }) { name } }')).code,
    ).toBe('INVALID_STATE');
    expect(
      (await code('mutation { renameDomain(input: { domain: { name: "db2" }, newName: "web" }) { name } }')).code,
    ).toBe('INVALID_INPUT');
    expect(
      await code('mutation { renameDomain(input: { domain: { name: "db2" }, newName: "a/b" }) { name } }'),
    ).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'newName',
    });
    expect((await read('db2')).name).toBe('db2');
    expect((await read('web')).name).toBe('web');
  });

  it('sends keys to a running domain; bad key lists and a shut-off domain are refused', async () => {
    await ok('mutation { sendKey(input: { domain: { name: "web" }, keycodes: [29, 56, 111] }) { name } }');
    await ok(
      'mutation { sendKey(input: { domain: { name: "web" }, keycodes: [1], codeset: QNUM, holdTimeMs: 50 }) { name } }',
    );
    expect(await code('mutation { sendKey(input: { domain: { name: "web" }, keycodes: [] }) { name } }')).toMatchObject(
      {
        code: 'INVALID_INPUT',
        field: 'keycodes',
      },
    );
    const seventeen = Array.from({ length: 17 }, (_, i) => i + 1).join(', ');
    expect(
      await code(`mutation { sendKey(input: { domain: { name: "web" }, keycodes: [${seventeen}] }) { name } }`),
    ).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'keycodes',
    });
    expect((await code('mutation { sendKey(input: { domain: { name: "db" }, keycodes: [1] }) { name } }')).code).toBe(
      'INVALID_STATE',
    );
  });

  it('sets and removes the description and the title, live or in the configuration', async () => {
    const set = await ok<{ setDomainDescription: { description: string } }>(
      'mutation { setDomainDescription(input: { domain: { name: "web" }, description: "front <end> & co" }) { description } }',
    );
    expect(set.setDomainDescription.description).toBe('front <end> & co');
    await ok('mutation { setDomainTitle(input: { domain: { name: "web" }, title: "Web server" }) { name } }');
    expect(await read('web')).toMatchObject({ description: 'front <end> & co', title: 'Web server' });
    await ok('mutation { setDomainTitle(input: { domain: { name: "web" }, title: null }) { name } }');
    expect((await read('web')).title).toBeNull();

    await ok(
      'mutation { setDomainTitle(input: { domain: { name: "db" }, title: "Database", scope: CONFIG }) { name } }',
    );
    expect((await read('db')).title).toBe('Database');
    expect(
      (await code('mutation { setDomainTitle(input: { domain: { name: "db" }, title: "x", scope: LIVE }) { name } }'))
        .code,
    ).toBe('INVALID_STATE');
    expect(
      await code('mutation { setDomainTitle(input: { domain: { name: "web" }, title: "two\\nlines" }) { name } }'),
    ).toMatchObject({ code: 'INVALID_INPUT', field: 'title' });
    expect(
      await code(
        'mutation ($d: String) { setDomainDescription(input: { domain: { name: "web" }, description: $d }) { name } }',
        {
          d: 'x'.repeat(5000),
        },
      ),
    ).toMatchObject({ code: 'INVALID_INPUT', field: 'description' });
  });
});

describe('renameDomain needs VM.Config on both names', () => {
  it('a grant limited to team-a-* cannot rename its domain out of its globs', async () => {
    const token = createApiToken();
    const gw = await startGateway({ fixture: fixtureUri }, undefined, {
      config: {
        auth: {
          tokens: [{ name: 'team', sha256: token.sha256 }],
          roles: { cfg: ['VM.Audit', 'VM.Config'] },
          grants: [{ identity: 'team', role: 'cfg', domains: ['db', 'team-a-*'] }],
        },
      },
    });
    try {
      const as = (q: string) => gw.query(q, undefined, { authorization: `Bearer ${token.secret}` });
      const out = await as(
        'mutation { renameDomain(input: { domain: { name: "db" }, newName: "elsewhere" }) { name } }',
      );
      expect(out.errors?.[0]?.extensions).toMatchObject({
        code: 'FORBIDDEN',
        privilege: 'VM.Config',
        domain: 'elsewhere',
      });
      const inside = await as(
        'mutation { renameDomain(input: { domain: { name: "db" }, newName: "team-a-db" }) { name } }',
      );
      expect(inside.errors).toBeUndefined();
    } finally {
      await gw.close();
    }
  });
});
