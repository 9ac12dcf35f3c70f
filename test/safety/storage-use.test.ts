import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { type GraphQLResponse, startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// Storage.Use and Network.Use as the host-safety policy applies them to client XML and save
// paths (issue 18, items 2 and 3), for a tenant narrowed to its domains, pool and network, on the
// test driver. After each refusal the admin's list of the host's domains shows nothing was defined.

const tokens = { admin: createApiToken(), teamA: createApiToken(), teamB: createApiToken(), auditor: createApiToken() };
const TENANT = [
  'VM.Audit',
  'VM.Config',
  'VM.Allocate',
  'VM.PowerMgmt',
  'Storage.Audit',
  'Storage.Use',
  'Network.Audit',
  'Network.Use',
];

let gw: TestGateway;
let poolDir: string;

const as =
  (who: keyof typeof tokens) =>
  <D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<D>> =>
    gw.query<D>(query, variables, { authorization: `Bearer ${tokens[who].secret}` });
const admin = as('admin');
const teamA = as('teamA');
const teamB = as('teamB');
const auditor = as('auditor');

const DEFINE = 'mutation ($xml: String!) { defineDomainFromXml(input: { xml: $xml }) { name } }';
const domainXml = (name: string, devices: string) =>
  `<domain type="test"><name>${name}</name><memory>1024</memory><os><type>hvm</type></os><devices>${devices}</devices></domain>`;
const disk = (path: string, dev = 'vdb') =>
  `<disk type="file" device="disk"><source file="${path}"/><target dev="${dev}"/></disk>`;

/** The host's domains as libvirt lists them to the admin (a test:///path host's state lives in the gateway's connection). */
async function domainNames(): Promise<string[]> {
  const res = await admin<{ host: { domains: Array<{ name: string }> } }>('{ host { domains { name } } }');
  expect(res.errors).toBeUndefined();
  return (res.data?.host.domains ?? []).map((d) => d.name).sort();
}

function code(res: GraphQLResponse): unknown {
  return res.errors?.[0]?.extensions?.code;
}

beforeAll(async () => {
  poolDir = await mkdtemp(join(tmpdir(), 'virtql-tenant-pool-'));
  gw = await startGateway({ fixture: fixtureUri }, undefined, {
    config: {
      auth: {
        tokens: Object.entries(tokens).map(([name, t]) => ({ name, sha256: t.sha256 })),
        roles: { tenant: TENANT, 'storage-auditor': ['VM.Audit', 'VM.Allocate', 'Storage.Audit', 'Network.Audit'] },
        grants: [
          { identity: 'admin', role: 'admin' },
          {
            identity: 'teamA',
            role: 'tenant',
            domains: ['team-a-*'],
            pools: ['team-a-pool'],
            networks: ['team-a-net'],
          },
          {
            identity: 'teamB',
            role: 'tenant',
            domains: ['team-b-*'],
            pools: ['team-a-pool'],
            networks: ['team-a-net'],
          },
          { identity: 'auditor', role: 'storage-auditor', domains: ['audit-*'], pools: ['team-a-pool'] },
        ],
      },
    },
  });
  const made = [
    await admin('mutation ($xml: String!) { createStoragePool(input: { xml: $xml }) { name } }', {
      xml: `<pool type="dir"><name>team-a-pool</name><target><path>${poolDir}</path></target></pool>`,
    }),
    await admin(
      'mutation { createSimpleNetwork(input: { network: { name: "team-a-net", forwardMode: NONE, ipAddress: "10.99.0.1", netmask: "255.255.255.0" } }) { name } }',
    ),
  ];
  for (const vol of ['a.img', 'shared.img', 'free.img']) {
    made.push(
      await admin('mutation ($xml: String!) { createVolume(input: { pool: "team-a-pool", xml: $xml }) { name } }', {
        xml: `<volume><name>${vol}</name><capacity>1048576</capacity></volume>`,
      }),
    );
  }
  // A domain team A may not see uses shared.img.
  made.push(await admin(DEFINE, { xml: domainXml('secret-vm', disk(`${poolDir}/shared.img`)) }));
  for (const res of made) expect(res.errors).toBeUndefined();
});

afterAll(async () => {
  await gw?.close();
  await rm(poolDir, { recursive: true, force: true });
});

describe('Storage.Use and Network.Use in client XML', () => {
  it('lets a tenant use a volume of its own pool and a NIC on its own network', async () => {
    const res = await teamA(DEFINE, {
      xml: domainXml(
        'team-a-1',
        `${disk(`${poolDir}/a.img`)}<interface type="network"><source network="team-a-net"/></interface>`,
      ),
    });
    expect(res.errors).toBeUndefined();
    expect(await domainNames()).toContain('team-a-1');
  });

  it('a pool the tenant cannot see is no storage to it, however the path is spelled; nothing is defined', async () => {
    const before = await domainNames();
    const absent = await teamA(DEFINE, { xml: domainXml('team-a-x', disk('/nowhere/web.img')) });
    expect(code(absent)).toBe('UNSAFE_INPUT');
    for (const path of ['/default-pool/web.img', '/default-pool/./web.img', '//default-pool//web.img']) {
      const res = await teamA(DEFINE, { xml: domainXml('team-a-x', disk(path)) });
      expect(code(res), path).toBe('UNSAFE_INPUT');
      expect(res.errors?.[0]?.message.replaceAll(path, 'P'), path).toBe(
        absent.errors?.[0]?.message.replaceAll('/nowhere/web.img', 'P'),
      );
    }
    const byVolume = await teamA(DEFINE, {
      xml: domainXml(
        'team-a-x',
        '<disk type="volume" device="disk"><source pool="default-pool" volume="web.img"/><target dev="vdb"/></disk>',
      ),
    });
    expect(code(byVolume)).toBe('NOT_FOUND');
    expect(await domainNames()).toEqual(before);
  });

  it('answers NOT_FOUND for a volume in use by a domain the tenant cannot see, though its pool is the tenant’s', async () => {
    const res = await teamA(DEFINE, { xml: domainXml('team-a-x', disk(`${poolDir}/./shared.img`)) });
    expect(code(res)).toBe('NOT_FOUND');
    expect(res.errors?.[0]?.message).not.toContain('secret-vm');
    expect(await domainNames()).not.toContain('team-a-x');
  });

  it('a NIC on a network the tenant cannot see is refused like one on a network the host lacks', async () => {
    const hidden = await teamA(DEFINE, {
      xml: domainXml('team-a-x', '<interface type="network"><source network="lan"/></interface>'),
    });
    const absent = await teamA(DEFINE, {
      xml: domainXml('team-a-x', '<interface type="network"><source network="no-such-net"/></interface>'),
    });
    expect(code(hidden)).toBe(code(absent));
    expect(hidden.errors?.[0]?.message.replace('lan', 'X')).toBe(
      absent.errors?.[0]?.message.replace('no-such-net', 'X'),
    );
    expect(await domainNames()).not.toContain('team-a-x');
  });

  it('FORBIDDEN names Storage.Use when the caller sees the pool but may not use it', async () => {
    const res = await auditor(DEFINE, { xml: domainXml('audit-1', disk(`${poolDir}/free.img`)) });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Storage.Use' });
    expect(await domainNames()).not.toContain('audit-1');
  });
});

describe('save and restore confined to the tenant’s storage', () => {
  const SAVE =
    'mutation ($path: String!) { saveDomain(input: { domain: { name: "team-a-1" }, path: $path }) { state } }';
  const RESTORE = 'mutation ($path: String!) { restoreDomain(input: { path: $path }) { state domain { name } } }';

  it('never saves over a volume, whatever the spelling; saves into the pool and restores from there', async () => {
    expect(
      (await teamA('mutation { startDomain(input: { domain: { name: "team-a-1" } }) { state } }')).errors,
    ).toBeUndefined();
    for (const path of [`${poolDir}/a.img`, `${poolDir}/./a.img`, `${poolDir}//shared.img`, `${poolDir}/x/../a.img`]) {
      const res = await teamA(SAVE, { path });
      expect(['INVALID_INPUT', 'NOT_FOUND'], path).toContain(code(res));
    }
    const saved = await teamA(SAVE, { path: `${poolDir}/image-1.save` });
    expect(saved.errors).toBeUndefined();
    // Another tenant with the same pool may not restore an image of a domain it cannot see.
    const foreign = await teamB(RESTORE, { path: `${poolDir}/image-1.save` });
    expect(code(foreign)).toBe('NOT_FOUND');
    expect(foreign.errors?.[0]?.message).not.toContain('team-a');
    const restored = await teamA<{ restoreDomain: { state: string; domain: { name: string } } }>(RESTORE, {
      path: `${poolDir}/./image-1.save`,
    });
    expect(restored.errors).toBeUndefined();
    expect(restored.data?.restoreDomain).toEqual({ state: 'RUNNING', domain: { name: 'team-a-1' } });
  });

  it('refuses a save outside the tenant’s pools', async () => {
    for (const path of ['/default-pool/web.save', '/etc/team-a.save', `${poolDir}/../escape.save`]) {
      const res = await teamA(SAVE, { path });
      // `..` is refused by the path input itself (INVALID_INPUT); the others by the policy.
      expect(['UNSAFE_INPUT', 'INVALID_INPUT'], path).toContain(code(res));
    }
  });
});
