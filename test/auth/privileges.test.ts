import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// Each role's matrix over every mutation on its own copy of the fixture host (web runs, db is
// shut off; network lan, pool default-pool with web.img, interface eth1).

const tokens = {
  viewer: createApiToken(),
  operator: createApiToken(),
  admin: createApiToken(),
  'team-a': createApiToken(),
};
type Who = keyof typeof tokens;

const authConfig = {
  auth: {
    tokens: Object.entries(tokens).map(([name, t]) => ({ name, sha256: t.sha256 })),
    roles: { 'team-power': ['VM.Audit', 'VM.PowerMgmt'] },
    grants: [
      { identity: 'viewer', role: 'viewer' },
      { identity: 'operator', role: 'operator' },
      { identity: 'admin', role: 'admin' },
      { identity: 'team-a', role: 'team-power', hosts: ['fix*'], domains: ['web', 'team-a-*'] },
    ],
  },
};

const ROLE_PRIVILEGES: Record<Exclude<Who, 'team-a'>, string[]> = {
  viewer: [],
  operator: ['VM.PowerMgmt', 'VM.Console', 'VM.Snapshot'],
  admin: [
    'VM.PowerMgmt',
    'VM.Console',
    'VM.Snapshot',
    'VM.Config',
    'VM.Allocate',
    'VM.Migrate',
    'Network.Modify',
    'Storage.Allocate',
    'Interface.Modify',
  ],
};

const web = 'domain: { name: "web" }';
const domainXml = (name: string) =>
  `<domain type='test'><name>${name}</name><memory>1024</memory><os><type>hvm</type></os></domain>`;
const diskXml = "<disk type='file' device='disk'><source file='/default-pool/web.img'/><target dev='vdb'/></disk>";

/** Every mutation with the privilege shared/operations.md gives it; destructive ones last. */
function mutations(who: string): Array<{ name: string; privilege: string; query: string }> {
  const q = (name: string, privilege: string, args: string, select = '__typename') => ({
    name,
    privilege,
    query: `mutation${args.includes('$xml') ? '($xml: String!)' : ''} { ${name}(input: { ${args} }) { ${select} } }`,
  });
  return [
    q('openConsole', 'VM.Console', `${web}, kind: SERIAL`, 'kind'),
    q('suspendDomain', 'VM.PowerMgmt', web, 'state'),
    q('resumeDomain', 'VM.PowerMgmt', web, 'state'),
    q('rebootDomain', 'VM.PowerMgmt', web),
    q('shutdownDomain', 'VM.PowerMgmt', web),
    q('startDomain', 'VM.PowerMgmt', 'domain: { name: "db" }'),
    q('setDomainAutostart', 'VM.Config', `${web}, autostart: true`),
    q('setDomainMemory', 'VM.Config', `${web}, memoryKiB: "262144"`),
    q('setDomainMaxMemory', 'VM.Config', `${web}, memoryKiB: "1048576"`),
    q('setDomainVcpus', 'VM.Config', `${web}, vcpus: 1`),
    q('configureDomain', 'VM.Config', `${web}, config: { vcpus: 1 }`),
    q('attachDevice', 'VM.Config', `${web}, xml: $xml`),
    q('detachDevice', 'VM.Config', `${web}, xml: $xml`),
    q(
      'attachDisk',
      'VM.Config',
      `${web}, disk: { kind: FILE, sourcePath: "/default-pool/web.img", targetDevice: "vdc" }`,
    ),
    q('detachDisk', 'VM.Config', `${web}, sourcePath: "/default-pool/web.img"`),
    q('attachNetwork', 'VM.Config', `${web}, nic: { kind: NETWORK, source: "lan" }`),
    q('detachNetwork', 'VM.Config', `${web}, targetDevice: "vnet0"`),
    q('createDomain', 'VM.Allocate', `domain: { name: "c-${who}", memoryKiB: "262144" }`),
    q('defineDomain', 'VM.Allocate', `domain: { name: "d-${who}", memoryKiB: "262144" }`),
    q('createDomainFromXml', 'VM.Allocate', 'xml: $xml'),
    q('defineDomainFromXml', 'VM.Allocate', 'xml: $xml'),
    q('cloneDomain', 'VM.Allocate', `${web}, name: "cl-${who}"`, 'id'),
    q('migrateDomain', 'VM.Migrate', `${web}, destination: { host: "fixture" }`),
    q('startMigration', 'VM.Migrate', `${web}, destination: { host: "fixture" }`, 'id'),
    q('createNetwork', 'Network.Modify', 'xml: $xml'),
    q(
      'createSimpleNetwork',
      'Network.Modify',
      `network: { name: "s-${who}", ipAddress: "10.20.0.1", netmask: "255.255.255.0" }`,
    ),
    q('stopNetwork', 'Network.Modify', 'name: "lan"'),
    q('startNetwork', 'Network.Modify', 'name: "lan"'),
    q('setNetworkAutostart', 'Network.Modify', 'name: "lan", autostart: false'),
    q('createStoragePool', 'Storage.Allocate', 'xml: $xml'),
    q('createVolume', 'Storage.Allocate', 'pool: "default-pool", xml: $xml'),
    q('refreshStoragePool', 'Storage.Allocate', 'name: "default-pool"'),
    q('stopStoragePool', 'Storage.Allocate', 'name: "default-pool"'),
    q('startStoragePool', 'Storage.Allocate', 'name: "default-pool"'),
    q('buildStoragePool', 'Storage.Allocate', 'name: "default-pool"'),
    q('defineInterface', 'Interface.Modify', 'xml: $xml'),
    q('defineEthernetInterface', 'Interface.Modify', `interface: { name: "eth7", dhcp: true }`),
    q('stopInterface', 'Interface.Modify', 'name: "eth1"'),
    q('startInterface', 'Interface.Modify', 'name: "eth1"'),
    q('cloneVolume', 'Storage.Allocate', `ref: { path: "/default-pool/web.img" }, name: "c-${who}.img"`, 'name'),
    q(
      'resizeVolume',
      'Storage.Allocate',
      'ref: { path: "/default-pool/web.img" }, capacityBytes: "1099511627776"',
      'name',
    ),
    q('wipeVolume', 'Storage.Allocate', 'ref: { path: "/default-pool/web.img" }', 'name'),
    q('deleteStoragePool', 'Storage.Allocate', 'name: "default-pool", confirm: "default-pool"', 'name'),
    q('deleteVolume', 'Storage.Allocate', 'ref: { path: "/default-pool/web.img" }'),
    q('undefineInterface', 'Interface.Modify', 'name: "eth1"'),
    q('undefineNetwork', 'Network.Modify', 'name: "lan"'),
    q('undefineStoragePool', 'Storage.Allocate', 'name: "default-pool"'),
    q('createDomainSnapshot', 'VM.Snapshot', `${web}, snapshot: { name: "s-${who}" }`, 'name'),
    q('revertDomainSnapshot', 'VM.Snapshot', `${web}, name: "s-${who}"`, 'name'),
    q('deleteDomainSnapshot', 'VM.Snapshot', `${web}, name: "s-${who}"`, 'name'),
    q('startDomain', 'VM.PowerMgmt', web),
    q('resetDomain', 'VM.PowerMgmt', web, 'state'),
    q('pmWakeupDomain', 'VM.PowerMgmt', web, 'state'),
    q('sendKey', 'VM.Config', `${web}, keycodes: [29, 56, 111]`, 'name'),
    q('setDomainDescription', 'VM.Config', `${web}, description: "by ${who}"`, 'description'),
    q('setDomainTitle', 'VM.Config', `${web}, title: "by ${who}"`, 'title'),
    q('saveDomain', 'VM.PowerMgmt', `${web}, path: "${saveDir}/web-${who}.save"`, 'state'),
    q('restoreDomain', 'VM.PowerMgmt', `path: "${saveDir}/web-${who}.save"`, 'state'),
    q('managedSaveDomain', 'VM.PowerMgmt', web, 'state'),
    q('removeManagedSave', 'VM.PowerMgmt', web, 'hasManagedSave'),
    q('destroyDomain', 'VM.PowerMgmt', web),
    q('renameDomain', 'VM.Config', `${web}, newName: "web-${who}"`, 'name'),
    // By UUID: renameDomain gave web another name.
    q('undefineDomain', 'VM.Allocate', 'domain: { uuid: "4dea22b3-1d52-d8f3-2516-782e98ab3fa0" }'),
  ];
}

const XML: Record<string, (who: string) => string> = {
  attachDevice: () => diskXml,
  // The device web has (the gateway finds it in the domain's XML before asking libvirt).
  detachDevice: () => diskXml.replace("dev='vdb'", "dev='vda'"),
  createDomainFromXml: (who) => domainXml(`cx-${who}`),
  defineDomainFromXml: (who) => domainXml(`dx-${who}`),
  createNetwork: (who) => `<network><name>n-${who}</name></network>`,
  createStoragePool: (who) => `<pool type='dir'><name>p-${who}</name><target><path>/p-${who}</path></target></pool>`,
  createVolume: (who) => `<volume><name>v-${who}.img</name><capacity>1024</capacity></volume>`,
  defineInterface: () => "<interface type='ethernet' name='eth9'><start mode='none'/></interface>",
};

/** What libvirt 9.0's test driver itself refuses: no device hot-plug or migration, and its live XML has no NIC target device. */
const DRIVER_REFUSES: Record<string, string> = {
  attachDevice: 'UNSUPPORTED',
  detachDevice: 'UNSUPPORTED',
  attachDisk: 'UNSUPPORTED',
  detachDisk: 'UNSUPPORTED',
  attachNetwork: 'UNSUPPORTED',
  detachNetwork: 'NOT_FOUND',
  migrateDomain: 'UNSUPPORTED',
  resizeVolume: 'UNSUPPORTED',
  wipeVolume: 'UNSUPPORTED',
};

const HOST_STATE = `{ host { domains { name state autostart vcpus maxMemoryKiB memoryKiB description xml snapshots { name } }
  networks { name active autostart } storagePools { name active volumes { name } } interfaces { name active } } }`;

const gateways = new Map<Who, TestGateway>();
/** Where saveDomain writes (the test driver writes real files): a storage root the operator allows. */
const saveDir = mkdtempSync(join(tmpdir(), 'virtql-privileges-'));
beforeAll(async () => {
  for (const who of Object.keys(tokens) as Who[]) {
    gateways.set(
      who,
      await startGateway({ fixture: fixtureUri }, undefined, {
        config: { ...authConfig, storage: { allowedPaths: [saveDir] } },
      }),
    );
  }
});
afterAll(async () => {
  for (const gw of gateways.values()) await gw.close();
  rmSync(saveDir, { recursive: true, force: true });
});

function as(who: Who, gwFor: Who = who) {
  const gw = gateways.get(gwFor) as TestGateway;
  return (query: string, variables?: Record<string, unknown>) =>
    gw.query(query, variables, { authorization: `Bearer ${tokens[who].secret}` });
}

/** The host as the admin sees it on `who`'s gateway (with the errors of an inactive pool's volumes). */
async function snapshot(who: Who): Promise<unknown> {
  const res = await as('admin', who)(HOST_STATE);
  expect(res.data?.host).toBeDefined();
  return res;
}

describe('every mutation against each built-in role', () => {
  for (const who of ['viewer', 'operator', 'admin'] as const) {
    it(`${who}: allowed mutations pass the privilege check, denied ones are FORBIDDEN naming the privilege and change nothing`, async () => {
      const call = as(who);
      const allowed: string[] = [];
      for (const m of mutations(who)) {
        const before = await snapshot(who);
        const xml = XML[m.name]?.(who);
        const res = await call(m.query, xml === undefined ? undefined : { xml });
        const codes = (res.errors ?? []).map((e) => e.extensions?.code);
        if (ROLE_PRIVILEGES[who].includes(m.privilege)) {
          // Past the privilege check: it ran, or libvirt's test driver refused it, or the state was wrong for it.
          const expected = DRIVER_REFUSES[m.name];
          expect(
            codes.filter((c) => c !== 'INVALID_STATE' && c !== expected),
            `${who} ${m.name}`,
          ).toEqual([]);
          allowed.push(m.name);
        } else {
          expect(codes, `${who} ${m.name}`).toEqual(['FORBIDDEN']);
          expect(res.errors?.[0]?.extensions).toMatchObject({ privilege: m.privilege, field: `Mutation.${m.name}` });
          expect(res.errors?.[0]?.message).toContain(m.privilege);
          expect(await snapshot(who), `${who} ${m.name} changed the host`).toEqual(before);
        }
      }
      expect(allowed.length).toBe(mutations(who).filter((m) => ROLE_PRIVILEGES[who].includes(m.privilege)).length);
    });
  }

  it('admin: the mutations really ran (the host changed as asked)', async () => {
    const after = ((await snapshot('admin')) as { data: unknown }).data as {
      host: {
        domains: Array<{ name: string }>;
        networks: Array<{ name: string }>;
        interfaces: Array<{ name: string }>;
      };
    };
    const names = after.host.domains.map((d) => d.name);
    expect(names).toEqual(expect.arrayContaining(['d-admin', 'dx-admin']));
    expect(names).not.toContain('web');
    expect(after.host.networks.map((n) => n.name)).toEqual(expect.arrayContaining(['n-admin', 's-admin']));
  });

  it('operator: power management really ran', async () => {
    const res = await as('operator')('{ host { domains { name state } } }');
    expect(res.data).toMatchObject({ host: { domains: expect.arrayContaining([{ name: 'db', state: 'RUNNING' }]) } });
  });
});

describe('reads by role', () => {
  const reads = {
    info: '{ host { info { cpus } } }',
    hypervisor: '{ host { hypervisor { type } } }',
    networks: '{ host { networks { name } } }',
    pools: '{ host { storagePools { name } } }',
    interfaces: '{ host { interfaces { name } } }',
    volume: '{ volume(ref: { path: "/default-pool/web.img" }) { name } }',
    networkPage: '{ host { networkConnection(first: 5) { totalCount edges { node { name } } } } }',
    volumePage: '{ host { storagePool(name: "default-pool") { volumeConnection(first: 5) { totalCount } } } }',
  };

  it('viewer reads everything and sees every domain', async () => {
    const call = as('viewer', 'viewer');
    for (const [name, query] of Object.entries(reads)) {
      const res = await call(query);
      expect(res.errors, name).toBeUndefined();
    }
    const res = await call('{ host { domains { name } } }');
    expect((res.data as { host: { domains: Array<{ name: string }> } }).host.domains.map((d) => d.name)).toContain(
      'web',
    );
  });

  it('a domain-scoped grant gives no host, network, storage or interface reads: FORBIDDEN naming the privilege', async () => {
    const call = as('team-a', 'viewer');
    const expected: Record<string, string> = {
      info: 'Host.Audit',
      hypervisor: 'Host.Audit',
      networks: 'Network.Audit',
      pools: 'Storage.Audit',
      interfaces: 'Host.Audit',
      volume: 'Storage.Audit',
      networkPage: 'Network.Audit',
      volumePage: 'Storage.Audit',
    };
    for (const [name, query] of Object.entries(reads)) {
      const res = await call(query);
      expect(res.errors?.[0]?.extensions, name).toMatchObject({ code: 'FORBIDDEN', privilege: expected[name] });
    }
  });
});

describe('a team-scoped grant (team-a: VM.Audit and VM.PowerMgmt on web and team-a-* of fix* hosts)', () => {
  const call = () => as('team-a', 'viewer');

  it('lists only its own domains and its host', async () => {
    const res = await call()('{ hosts { name domains { name } } }');
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ hosts: [{ name: 'fixture', domains: [{ name: 'web' }] }] });
    const page = await call()('{ host { domainConnection(first: 10) { totalCount edges { node { name } } } } }');
    expect(page.data).toEqual({ host: { domainConnection: { totalCount: 1, edges: [{ node: { name: 'web' } }] } } });
  });

  it('cannot address another domain by name, UUID, runtime id or global ID: it does not exist for it', async () => {
    const admin = as('admin', 'viewer');
    const db = (await admin('{ domain(ref: { name: "db" }) { id uuid } }')).data as {
      domain: { id: string; uuid: string };
    };
    for (const ref of ['name: "db"', `uuid: "${db.domain.uuid}"`]) {
      const res = await call()(`{ domain(ref: { ${ref} }) { name } }`);
      expect(res.errors?.[0]?.extensions?.code, ref).toBe('NOT_FOUND');
      const acted = await call()(`mutation { startDomain(input: { domain: { ${ref} } }) { state } }`);
      expect(acted.errors?.[0]?.extensions?.code, ref).toBe('NOT_FOUND');
    }
    const node = await call()('query($id: ID!) { node(id: $id) { id } }', { id: db.domain.id });
    expect(node.data).toEqual({ node: null });
    expect(await admin('{ domain(ref: { name: "db" }) { state } }')).toMatchObject({
      data: { domain: { state: 'SHUTOFF' } },
    });
  });

  it('power-manages its own domain, but may not configure it or create outside its globs', async () => {
    const res = await call()(`mutation { suspendDomain(input: { ${web} }) { state } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ suspendDomain: { state: 'PAUSED' } });
    await call()(`mutation { resumeDomain(input: { ${web} }) { state } }`);
    const config = await call()(`mutation { setDomainAutostart(input: { ${web}, autostart: true }) { autostart } }`);
    expect(config.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'VM.Config', domain: 'web' });
    const create = await call()('mutation { createDomain(input: { domain: { name: "team-a-new" } }) { name } }');
    expect(create.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'VM.Allocate' });
  });

  it('an unknown host and a host outside the grants answer the same', async () => {
    const res = await call()('{ host(name: "elsewhere") { name } }');
    expect(res.errors?.[0]?.extensions?.code).toBe('UNKNOWN_HOST');
  });
});

describe('declarations', () => {
  it('every mutation and subscription field declares its privilege with authScopes', async () => {
    const { schema } = await import('../../src/schema/index.ts');
    for (const type of [schema.getMutationType(), schema.getSubscriptionType()]) {
      for (const field of Object.values(type?.getFields() ?? {})) {
        const options = (field.extensions as { pothosOptions?: { authScopes?: unknown } }).pothosOptions;
        expect(options?.authScopes, `${type?.name}.${field.name}`).toBeDefined();
      }
    }
  });
});
