import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { PRIVILEGES } from '../../src/auth/privileges.ts';
import { privilegeEnumName } from '../../src/schema/viewer/privilege-enum.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// `viewer.can` against the server's real answer: for each identity and each (privilege, object),
// the mutation needing that privilege is called; it passing the privilege check (it ran, or the
// domain's state refused it) must be exactly what `can` said. Fixture: web runs, db is shut off,
// network lan, pool default-pool.

const tokens = {
  admin: createApiToken(),
  operator: createApiToken(),
  viewer: createApiToken(),
  'team-a': createApiToken(),
  tenant: createApiToken(),
  blind: createApiToken(),
};
type Who = keyof typeof tokens;

const config = {
  auth: {
    tokens: Object.entries(tokens).map(([name, t]) => ({ name, sha256: t.sha256, groups: [`g-${name}`] })),
    roles: { 'team-power': ['VM.Audit', 'VM.PowerMgmt'], 'blind-ops': ['VM.PowerMgmt', 'VM.Config'] },
    grants: [
      { identity: 'admin', role: 'admin' },
      { identity: 'operator', role: 'operator' },
      { identity: 'viewer', role: 'viewer' },
      { identity: 'team-a', role: 'team-power', hosts: ['fix*'], domains: ['web'] },
      { identity: 'tenant', role: 'admin', hosts: ['fix*'], domains: ['db'], pools: ['default-*'], networks: ['x*'] },
      // Power and config on every domain, but sees none: every domain is NOT_FOUND to it.
      { identity: 'blind', role: 'blind-ops' },
    ],
  },
};

let gw: TestGateway;
beforeAll(async () => {
  gw = await startGateway({ fixture: fixtureUri }, undefined, { config });
});
afterAll(async () => {
  await gw.close();
});

const as = (who: Who) => (query: string, variables?: Record<string, unknown>) =>
  gw.query(query, variables, { authorization: `Bearer ${tokens[who].secret}` });

interface Check {
  privilege: string;
  kind: 'domain' | 'pool' | 'network';
  object: string;
  mutation: string;
  /** Puts back what a successful mutation changed, as the admin. */
  undo?: string;
}

const CHECKS: Check[] = [
  {
    privilege: 'VM.PowerMgmt',
    kind: 'domain',
    object: 'web',
    mutation: 'suspendDomain(input: { domain: { name: "web" } }) { state }',
    undo: 'resumeDomain(input: { domain: { name: "web" } }) { state }',
  },
  {
    privilege: 'VM.PowerMgmt',
    kind: 'domain',
    object: 'db',
    mutation: 'suspendDomain(input: { domain: { name: "db" } }) { state }',
  },
  {
    privilege: 'VM.Config',
    kind: 'domain',
    object: 'web',
    mutation: 'setDomainAutostart(input: { domain: { name: "web" }, autostart: false }) { name }',
  },
  {
    privilege: 'VM.Config',
    kind: 'domain',
    object: 'db',
    mutation: 'setDomainAutostart(input: { domain: { name: "db" }, autostart: false }) { name }',
  },
  {
    privilege: 'VM.PowerMgmt',
    kind: 'domain',
    object: 'ghost',
    mutation: 'suspendDomain(input: { domain: { name: "ghost" } }) { state }',
  },
  {
    privilege: 'Storage.Allocate',
    kind: 'pool',
    object: 'default-pool',
    mutation: 'refreshStoragePool(input: { name: "default-pool" }) { name }',
  },
  {
    privilege: 'Network.Modify',
    kind: 'network',
    object: 'lan',
    mutation: 'setNetworkAutostart(input: { name: "lan", autostart: false }) { name }',
  },
];

/** The server's answer: passed the privilege check (ran, or refused for the object's state), or refused as forbidden or unseen. */
async function serverAllows(who: Who, c: Check): Promise<boolean> {
  const res = await as(who)(`mutation { ${c.mutation} }`);
  const codes = (res.errors ?? []).map((e) => e.extensions?.code);
  if (codes.length === 0) {
    if (c.undo) expect((await as('admin')(`mutation { ${c.undo} }`)).errors).toBeUndefined();
    return true;
  }
  expect(codes.length, `${who} ${c.mutation}`).toBe(1);
  if (codes[0] === 'INVALID_STATE') return true;
  expect(['FORBIDDEN', 'NOT_FOUND'], `${who} ${c.mutation}: ${res.errors?.[0]?.message}`).toContain(codes[0]);
  return false;
}

const CAN = `query($p: Privilege!, $domain: String, $pool: String, $network: String) {
  viewer { can(privilege: $p, domain: $domain, pool: $pool, network: $network) }
}`;

async function viewerCan(who: Who, c: Check): Promise<boolean> {
  const res = await as(who)(CAN, { p: privilegeEnumName(c.privilege as never), [c.kind]: c.object });
  expect(res.errors).toBeUndefined();
  return (res.data as { viewer: { can: boolean } }).viewer.can;
}

describe('viewer.can agrees with the server', () => {
  for (const who of Object.keys(tokens) as Who[]) {
    it(`${who}: can equals what the mutation needing the privilege does`, async () => {
      const answers: string[] = [];
      for (const c of CHECKS) {
        const said = await viewerCan(who, c);
        const done = await serverAllows(who, c);
        expect(said, `${who} ${c.privilege} on ${c.kind} ${c.object}`).toBe(done);
        answers.push(`${c.privilege}@${c.object}=${said}`);
      }
      // Not vacuous: each identity's answers as its grants make them.
      const expected: Record<Who, string[]> = {
        admin: ['web', 'db', 'web', 'db', 'default-pool', 'lan'],
        operator: ['web', 'db'],
        viewer: [],
        'team-a': ['web'],
        tenant: ['db', 'db', 'default-pool'],
        blind: [],
      };
      const trueOnes = CHECKS.filter((_c, i) => answers[i]?.endsWith('=true')).map((c) => c.object);
      expect(trueOnes).toEqual(expected[who]);
    });
  }
});

describe('viewer', () => {
  it('tells who is calling', async () => {
    const res = await as('team-a')('{ viewer { identity { name kind groups } } }');
    expect(res.data).toEqual({ viewer: { identity: { name: 'team-a', kind: 'TOKEN', groups: ['g-team-a'] } } });
  });

  it('lists the privileges held on the host and on a named object', async () => {
    const q = (who: Who, args: string) => as(who)(`{ viewer { privileges${args} } }`);
    const list = async (who: Who, args = '') =>
      ((await q(who, args)).data as { viewer: { privileges: string[] } }).viewer.privileges;
    expect(await list('admin')).toEqual(PRIVILEGES.map((p) => privilegeEnumName(p)));
    expect(await list('viewer')).toEqual(['HOST_AUDIT', 'VM_AUDIT', 'NETWORK_AUDIT', 'STORAGE_AUDIT']);
    expect(await list('team-a', '(host: "fixture", domain: "web")')).toEqual(['VM_AUDIT', 'VM_POWER_MGMT']);
    // A narrowed grant gives nothing without the object it is narrowed to.
    expect(await list('team-a')).toEqual([]);
    const vmOfTenant = (await list('tenant', '(domain: "db")')).filter((p) => p.startsWith('VM_'));
    expect(vmOfTenant).toEqual(PRIVILEGES.filter((p) => p.startsWith('VM.')).map((p) => privilegeEnumName(p)));
  });

  it('answers a domain the caller may not see exactly as a missing one, without an error', async () => {
    for (const who of ['team-a', 'blind'] as const) {
      const seen = await as(who)('{ viewer { privileges(domain: "db") can(privilege: VM_POWER_MGMT, domain: "db") } }');
      const missing = await as(who)(
        '{ viewer { privileges(domain: "nope") can(privilege: VM_POWER_MGMT, domain: "nope") } }',
      );
      expect(seen.data).toEqual({ viewer: { privileges: [], can: false } });
      expect(seen.errors).toBeUndefined();
      expect(missing).toEqual(seen);
    }
    const pool = await as('tenant')('{ viewer { can(privilege: NETWORK_MODIFY, network: "lan") } }');
    expect(pool.data).toEqual({ viewer: { can: false } });
  });

  it('an unknown host is UNKNOWN_HOST; an unknown privilege is refused as input', async () => {
    const host = await as('admin')('{ viewer { can(privilege: VM_AUDIT, host: "nowhere") } }');
    expect(host.errors?.[0]?.extensions?.code).toBe('UNKNOWN_HOST');
    const literal = await as('admin')('{ viewer { can(privilege: VM_FLY) } }');
    expect(literal.data).toBeUndefined();
    expect(literal.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT' });
    expect(literal.errors?.[0]?.message).toContain('VM_FLY');
    const variable = await as('admin')(CAN, { p: 'VM.PowerMgmt' });
    expect(variable.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: '$p' });
    expect(variable.errors?.[0]?.message).toContain('VM_POWER_MGMT');
  });

  it('without authentication configured, answers what the anonymous identity holds: everything', async () => {
    const open = await startGateway({ fixture: fixtureUri });
    try {
      const res = await open.query(
        '{ viewer { identity { name kind groups } privileges can(privilege: SYS_UNSAFE) } }',
      );
      expect(res.data).toEqual({
        viewer: {
          identity: { name: 'anonymous', kind: 'ANONYMOUS', groups: [] },
          privileges: PRIVILEGES.map((p) => privilegeEnumName(p)),
          can: true,
        },
      });
    } finally {
      await open.close();
    }
  });
});
