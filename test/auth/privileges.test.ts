import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import type { Connection } from '../../src/libvirt/index.ts';
import { buildXmlNodes, parseDocument } from '../../src/libvirt/xml/xml-codec.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// Each role's matrix over every mutation on its own copy of the fixture host (web runs, db is
// shut off; network lan, pool default-pool with web.img, interface eth1).

const tokens = {
  viewer: createApiToken(),
  operator: createApiToken(),
  admin: createApiToken(),
  'team-a': createApiToken(),
  tenant: createApiToken(),
  'pool-viewer': createApiToken(),
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
      // Everything, but only on its own domains, pools and networks.
      {
        identity: 'tenant',
        role: 'admin',
        hosts: ['fix*'],
        domains: ['team-a-*'],
        pools: ['team-a*'],
        networks: ['team-a*'],
      },
      { identity: 'pool-viewer', role: 'viewer', hosts: ['fix*'], pools: ['team-a*'], networks: ['team-a*'] },
    ],
  },
};

const ROLE_PRIVILEGES: Record<Exclude<Who, 'team-a' | 'tenant' | 'pool-viewer'>, string[]> = {
  viewer: [],
  operator: ['VM.PowerMgmt', 'VM.Console', 'VM.Snapshot', 'Storage.Use'],
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
    'Storage.Use',
    'Network.Use',
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
    q('resizeDomainDisk', 'VM.Config', `${web}, disk: "vda", capacityBytes: "1099511627776"`, 'name'),
    q('moveDomainDisk', 'VM.Config', `${web}, disk: "vda", pool: "default-pool", name: "mv-${who}.img"`, 'id'),
    q('commitDomainDisk', 'VM.Config', `${web}, disk: "vda"`, 'id'),
    q('pullDomainDisk', 'VM.Config', `${web}, disk: "vda"`, 'id'),
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
    q('deleteDomainSnapshot', 'VM.Snapshot', `${web}, name: "s-${who}"`, 'deletedId'),
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
  resizeDomainDisk: 'UNSUPPORTED',
  // web's disk is a plain image: no backing chain to flatten.
  commitDomainDisk: 'INVALID_INPUT',
  pullDomainDisk: 'INVALID_INPUT',
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

/** The tenant's own objects, made through the port beside the fixture's: and `other`, a domain it cannot see using one of its pool's volumes. */
async function furnish(c: Connection): Promise<void> {
  const pool = await c.defineStoragePool(
    "<pool type='dir'><name>team-a-pool</name><target><path>/team-a-pool</path></target></pool>",
  );
  await pool.start();
  for (const name of ['team-a-web.img', 'shared.img', 'next.img']) {
    await pool.createVolume(`<volume><name>${name}</name><capacity>1048576</capacity></volume>`);
  }
  const net = await c.defineNetwork("<network><name>team-a-lan</name><bridge name='tabr0'/></network>");
  await net.start();
  const disk = (file: string) => `<disk type='file' device='disk'><source file='${file}'/><target dev='vda'/></disk>`;
  const domain = (name: string, devices: string) =>
    `<domain type='test'><name>${name}</name><memory>1024</memory><os><type>hvm</type></os><devices>${devices}</devices></domain>`;
  await c.defineDomain(
    domain(
      'team-a-web',
      `${disk('/team-a-pool/team-a-web.img')}<interface type='network'><source network='team-a-lan'/></interface><interface type='network'><source network='lan'/></interface>`,
    ),
  );
  // Running on shared.img, with next.img in its definition for the next boot: both are in use.
  const other = await c.defineDomain(domain('other', disk('/team-a-pool/shared.img')));
  await other.start();
  await c.defineDomain(
    domain('other', disk('/team-a-pool/next.img')).replace('</name>', `</name><uuid>${other.uuid}</uuid>`),
  );
}

/** What libvirt itself holds, read through the port the tenant's gateway uses: the oracle for every call below. */
async function libvirtState(c: Connection) {
  const pools = await c.storagePools();
  return {
    domains: (await c.domains()).map((d) => d.name).sort(),
    networks: await Promise.all(
      (await c.networks()).map(async (n) => `${n.name}:${(await n.isActive()) ? 'up' : 'down'}`),
    ),
    pools: await Promise.all(
      pools.map(async (p) => ({
        name: p.name,
        active: await p.isActive(),
        volumes: (await p.isActive()) ? (await p.volumes()).map((v) => v.name).sort() : [],
      })),
    ),
  };
}

describe('a tenant narrowed to team-a domains, pools and networks (admin role)', () => {
  const call = () => as('tenant');
  let port: Connection;
  let admin: Record<string, string>;
  beforeAll(async () => {
    port = await (gateways.get('tenant') as TestGateway).registry.connection('fixture');
    await furnish(port);
    const ids = await as(
      'admin',
      'tenant',
    )(`{ host {
      storagePool(name: "default-pool") { id volumes { id } }
      network(name: "lan") { id }
      domain(ref: { name: "web" }) { id uuid } } }`);
    const h = (ids.data as { host: Record<string, { id: string; uuid?: string; volumes?: Array<{ id: string }> }> })
      .host;
    admin = {
      pool: h.storagePool?.id as string,
      volume: h.storagePool?.volumes?.[0]?.id as string,
      network: h.network?.id as string,
      domain: h.domain?.id as string,
      webUuid: h.domain?.uuid as string,
    };
  });

  it('lists only its own pools, networks and domains, with totals to match', async () => {
    const res = await call()(`{ host {
      storagePools { name } networks { name } domains { name }
      networkConnection(first: 10) { totalCount edges { node { name } } } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({
      host: {
        storagePools: [{ name: 'team-a-pool' }],
        networks: [{ name: 'team-a-lan' }],
        domains: [{ name: 'team-a-web' }],
        networkConnection: { totalCount: 1, edges: [{ node: { name: 'team-a-lan' } }] },
      },
    });
  });

  it('does not see a volume of its own pool that a domain it cannot see uses, nor volumes of other pools', async () => {
    const pool = await call()(`{ host { storagePool(name: "team-a-pool") {
      volumes { name } volumeConnection(first: 10) { totalCount } } } }`);
    expect(pool.data).toEqual({
      host: { storagePool: { volumes: [{ name: 'team-a-web.img' }], volumeConnection: { totalCount: 1 } } },
    });
    // The admin sees it: the volume is hidden from the tenant only.
    const all = (await as('admin', 'tenant')('{ host { storagePool(name: "team-a-pool") { volumes { name } } } }'))
      .data as { host: { storagePool: { volumes: Array<{ name: string }> } } };
    expect(all.host.storagePool.volumes.map((v) => v.name).sort()).toEqual([
      'next.img',
      'shared.img',
      'team-a-web.img',
    ]);
    const absent = await call()('{ volume(ref: { path: "/team-a-pool/absent.img" }) { name } }');
    expect(absent.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    for (const path of ['/team-a-pool/shared.img', '/team-a-pool/next.img', '/default-pool/web.img']) {
      const res = await call()(`{ volume(ref: { path: "${path}" }) { name } }`);
      expect(res.errors?.[0]?.extensions?.code, path).toBe('NOT_FOUND');
      expect(res.errors?.[0]?.message, path).toBe(
        absent.errors?.[0]?.message?.replace('/team-a-pool/absent.img', path),
      );
    }
    const disks = await call()('{ domain(ref: { name: "team-a-web" }) { disks { volume { name pool { name } } } } }');
    expect(disks.data).toEqual({
      domain: { disks: [{ volume: { name: 'team-a-web.img', pool: { name: 'team-a-pool' } } }] },
    });
  });

  it('an invisible pool or network answers as an absent one does, by name and by global ID', async () => {
    for (const [field, name, absent] of [
      ['storagePool', 'default-pool', 'team-a-absent'],
      ['network', 'lan', 'team-a-absent'],
    ] as const) {
      const missing = await call()(`{ ${field}(name: "${absent}") { name } }`);
      const hidden = await call()(`{ ${field}(name: "${name}") { name } }`);
      expect(hidden.errors?.[0]?.extensions?.code, name).toBe('NOT_FOUND');
      expect(hidden.errors?.[0]?.message).toBe(missing.errors?.[0]?.message?.replace(absent, name));
    }
    const nodes = await call()('query($ids: [ID!]!) { nodes(ids: $ids) { id } }', {
      ids: [admin.pool, admin.volume, admin.network, admin.domain],
    });
    expect(nodes.data).toEqual({ nodes: [null, null, null, null] });
    // Its own domain's NIC on a network it cannot see: the network is null, as a missing one.
    const nics = await call()('{ domain(ref: { name: "team-a-web" }) { interfaces { sourceName network { name } } } }');
    expect(nics).toEqual({
      extensions: { cost: expect.any(Object) },
      data: {
        domain: {
          interfaces: [
            { sourceName: 'team-a-lan', network: { name: 'team-a-lan' } },
            { sourceName: 'lan', network: null },
          ],
        },
      },
    });
  });

  it('every mutation on the fixture’s objects is refused (NOT_FOUND where the object exists but is not its own) and changes nothing libvirt holds', async () => {
    // New objects outside its globs, and host-wide privileges, are FORBIDDEN; the rest names objects it cannot see.
    const forbidden = new Set([
      'createDomain',
      'defineDomain',
      'createDomainFromXml',
      'defineDomainFromXml',
      'createNetwork',
      'createSimpleNetwork',
      'createStoragePool',
      'defineInterface',
      'defineEthernetInterface',
      'stopInterface',
      'startInterface',
      'undefineInterface',
      // An image that does not exist names no domain: VM.PowerMgmt on the host is what it lacks.
      'restoreDomain',
    ]);
    const before = await libvirtState(port);
    const seen: Record<string, unknown> = {};
    for (const m of mutations('tenant')) {
      const xml = XML[m.name]?.('tenant');
      const res = await call()(m.query, xml === undefined ? undefined : { xml });
      seen[m.name] = res.errors?.map((e) => e.extensions?.code);
      expect(res.data?.[m.name] ?? null, m.name).toBeNull();
      expect(await libvirtState(port), `${m.name} changed the host`).toEqual(before);
    }
    const expected = Object.fromEntries(
      mutations('tenant').map((m) => [m.name, [forbidden.has(m.name) ? 'FORBIDDEN' : 'NOT_FOUND']]),
    );
    expect(seen).toEqual(expected);
  });

  it('changes its own pools, volumes and networks, and libvirt holds the result', async () => {
    const ok = async (query: string, variables?: Record<string, unknown>) => {
      const res = await call()(query, variables);
      expect(res.errors, query).toBeUndefined();
    };
    const volumesOf = async (pool: string) =>
      (await (await port.storagePoolByName(pool)).volumes()).map((v) => v.name).sort();
    await ok('mutation($xml: String!) { createVolume(input: { pool: "team-a-pool", xml: $xml }) { name } }', {
      xml: '<volume><name>v1.img</name><capacity>1024</capacity></volume>',
    });
    await ok('mutation { cloneVolume(input: { ref: { path: "/team-a-pool/v1.img" }, name: "v2.img" }) { name } }');
    expect(await volumesOf('team-a-pool')).toEqual(['next.img', 'shared.img', 'team-a-web.img', 'v1.img', 'v2.img']);
    await ok('mutation { deleteVolume(input: { ref: { path: "/team-a-pool/v2.img" } }) { name } }');
    expect(await volumesOf('team-a-pool')).toEqual(['next.img', 'shared.img', 'team-a-web.img', 'v1.img']);

    await ok(`mutation($xml: String!) { createStoragePool(input: { xml: $xml }) { name } }`, {
      xml: `<pool type='dir'><name>team-a-extra</name><target><path>${saveDir}/team-a-extra</path></target></pool>`,
    });
    await ok('mutation { stopStoragePool(input: { name: "team-a-extra" }) { name } }');
    expect(await (await port.storagePoolByName('team-a-extra')).isActive()).toBe(false);
    await ok('mutation { undefineStoragePool(input: { name: "team-a-extra" }) { name } }');
    expect((await port.storagePools()).map((p) => p.name)).not.toContain('team-a-extra');

    await ok(
      'mutation { createSimpleNetwork(input: { network: { name: "team-a-net2", forwardMode: NONE } }) { name } }',
    );
    await ok('mutation { stopNetwork(input: { name: "team-a-net2" }) { name } }');
    expect(await (await port.networkByName('team-a-net2')).isActive()).toBe(false);
    await ok('mutation { undefineNetwork(input: { name: "team-a-net2" }) { name } }');
    expect((await port.networks()).map((n) => n.name)).not.toContain('team-a-net2');
  });

  it('cannot move data between its pools and others: a clone into or out of an invisible pool is NOT_FOUND and copies nothing', async () => {
    const before = await libvirtState(port);
    const into = await call()(
      'mutation { cloneVolume(input: { ref: { path: "/team-a-pool/team-a-web.img" }, name: "x.img", pool: "default-pool" }) { name } }',
    );
    expect(into.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const out = await call()(
      'mutation { cloneVolume(input: { ref: { path: "/default-pool/web.img" }, name: "x.img", pool: "team-a-pool" }) { name } }',
    );
    expect(out.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    const shared = await call()(
      'mutation { deleteVolume(input: { ref: { path: "/team-a-pool/shared.img" } }) { name } }',
    );
    expect(shared.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await libvirtState(port)).toEqual(before);
  });

  it('clones its own domain into its own pool, but not one whose disk lies in a pool it cannot see', async () => {
    const clone = 'mutation { cloneDomain(input: { domain: { name: "team-a-web" }, name: "team-a-web2" }) { id } }';
    // Its second NIC is on the fixture's network, which the tenant may not use: refused before anything is copied.
    const onLan = await call()(clone);
    expect(onLan.errors?.[0]?.extensions).toMatchObject({ code: 'UNSAFE_INPUT', field: 'domain' });
    const pool = await port.storagePoolByName('team-a-pool');
    expect((await pool.volumes()).map((v) => v.name)).not.toContain('team-a-web2-vda.img');
    // The operator takes the NIC off (the test driver cannot detach devices: define the domain anew without it).
    const { nodes, root } = parseDocument(
      await (await port.domainByName('team-a-web')).xml({ inactive: true }),
      'domain',
    );
    const devices = root.child('devices');
    const onLanNic = devices?.elements('interface').find((nic) => nic.attrAt(['source'], 'network') === 'lan');
    if (devices && onLanNic) devices.remove(onLanNic);
    await port.defineDomain(buildXmlNodes(nodes));
    expect(await (await port.domainByName('team-a-web')).xml({ inactive: true })).not.toContain("network='lan'");
    const cloned = await call()(clone);
    expect(cloned.errors).toBeUndefined();
    const id = (cloned.data as { cloneDomain: { id: string } }).cloneDomain.id;
    await expect
      .poll(async () => (await call()(`{ operation(id: "${id}") { status } }`)).data)
      .toEqual({ operation: { status: 'COMPLETED' } });
    expect((await port.domains()).map((d) => d.name)).toContain('team-a-web2');
    expect((await (await port.storagePoolByName('team-a-pool')).volumes()).map((v) => v.name)).toContain(
      'team-a-web2-vda.img',
    );
    const cross = await port.defineDomain(
      "<domain type='test'><name>team-a-cross</name><memory>1024</memory><os><type>hvm</type></os><devices><disk type='file' device='disk'><source file='/default-pool/web.img'/><target dev='vda'/></disk></devices></domain>",
    );
    const before = await libvirtState(port);
    const refused = await call()(
      'mutation { cloneDomain(input: { domain: { name: "team-a-cross" }, name: "team-a-cross2" }) { id } }',
    );
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Storage.Use' });
    expect(JSON.stringify(refused.errors)).not.toContain('default-pool');
    expect(await libvirtState(port)).toEqual(before);
    await cross.undefine();
  });

  it('a UUID another object has is "UUID already in use", naming nothing, and nothing is defined', async () => {
    const uuids = (
      await as(
        'admin',
        'tenant',
      )('{ host { network(name: "lan") { uuid } storagePool(name: "default-pool") { uuid } } }')
    ).data as { host: { network: { uuid: string }; storagePool: { uuid: string } } };
    const before = await libvirtState(port);
    const attempts: Array<[string, string]> = [
      [
        'defineDomainFromXml',
        `<domain type='test'><name>team-a-dup</name><uuid>${admin.webUuid}</uuid><memory>1024</memory><os><type>hvm</type></os></domain>`,
      ],
      [
        'createDomainFromXml',
        `<domain type='test'><name>team-a-dup</name><uuid>${admin.webUuid}</uuid><memory>1024</memory><os><type>hvm</type></os></domain>`,
      ],
      ['createNetwork', `<network><name>team-a-dup</name><uuid>${uuids.host.network.uuid}</uuid></network>`],
      [
        'createStoragePool',
        `<pool type='dir'><name>team-a-dup</name><uuid>${uuids.host.storagePool.uuid}</uuid><target><path>${saveDir}/team-a-dup</path></target></pool>`,
      ],
    ];
    for (const [name, xml] of attempts) {
      const res = await call()(`mutation($xml: String!) { ${name}(input: { xml: $xml }) { __typename } }`, { xml });
      expect(res.errors?.[0]?.extensions, name).toMatchObject({ code: 'INVALID_INPUT', field: 'xml' });
      expect(res.errors?.[0]?.message, name).toBe('xml: UUID already in use');
    }
    // A pool over another pool's target: the host-safety policy refuses the overlap without naming that pool.
    const overlap = await call()('mutation($xml: String!) { createStoragePool(input: { xml: $xml }) { name } }', {
      xml: "<pool type='dir'><name>team-a-over</name><target><path>/default-pool</path></target></pool>",
    });
    expect(overlap.errors?.[0]?.extensions).toMatchObject({ code: 'UNSAFE_INPUT', field: 'xml' });
    // Only the path the caller gave itself: no pool's name.
    expect(JSON.stringify(overlap.errors).replaceAll('/default-pool', '')).not.toContain('default-pool');
    expect(await libvirtState(port)).toEqual(before);
  });
});

describe('a pool and network viewer (viewer role narrowed to team-a pools and networks)', () => {
  it('a change of a pool or network it sees is FORBIDDEN naming it; of one it does not see, NOT_FOUND', async () => {
    const viewer = as('pool-viewer', 'tenant');
    const seen = await viewer('mutation { stopStoragePool(input: { name: "team-a-pool" }) { name } }');
    expect(seen.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      privilege: 'Storage.Allocate',
      pool: 'team-a-pool',
    });
    const net = await viewer('mutation { stopNetwork(input: { name: "team-a-lan" }) { name } }');
    expect(net.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      privilege: 'Network.Modify',
      network: 'team-a-lan',
    });
    for (const query of [
      'mutation { stopStoragePool(input: { name: "default-pool" }) { name } }',
      'mutation { stopNetwork(input: { name: "lan" }) { name } }',
    ]) {
      expect((await viewer(query)).errors?.[0]?.extensions?.code, query).toBe('NOT_FOUND');
    }
    // A volume: FORBIDDEN naming its pool when the pool is seen, NOT_FOUND in another pool.
    const port = await (gateways.get('tenant') as TestGateway).registry.connection('fixture');
    await (await port.storagePoolByName('team-a-pool')).createVolume(
      '<volume><name>pv.img</name><capacity>1024</capacity></volume>',
    );
    const wipe = await viewer('mutation { deleteVolume(input: { ref: { path: "/team-a-pool/pv.img" } }) { name } }');
    expect(wipe.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      privilege: 'Storage.Allocate',
      pool: 'team-a-pool',
    });
    const other = await viewer('mutation { deleteVolume(input: { ref: { path: "/default-pool/web.img" } }) { name } }');
    expect(other.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect((await (await port.storagePoolByName('team-a-pool')).volumes()).map((v) => v.name)).toContain('pv.img');
    expect((await viewer('{ host { domains { name } } }')).errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      privilege: 'VM.Audit',
    });
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
