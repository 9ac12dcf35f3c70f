import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

let gw: TestGateway;
beforeEach(async () => {
  // The pool test creates /made: outside the fixture's pools, so the operator allows it (README, Host safety).
  gw = await startGateway({ fixture: fixtureUri }, undefined, { config: { storage: { allowedPaths: ['/made'] } } });
});
afterEach(async () => {
  await gw.close();
});

async function ok<D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<D> {
  const res = await gw.query<D>(query, variables);
  expect(res.errors).toBeUndefined();
  return res.data as D;
}

/** Everything a bad mutation must leave untouched. */
async function hostState(): Promise<unknown> {
  return ok(`{ host { domains { name state autostart vcpus maxMemoryKiB description }
    networks { name active autostart } storagePools { name active volumes { name } } interfaces { name active } } }`);
}

describe('Domain mutations on the test driver', () => {
  it('suspends and resumes with old and new states, and refuses the wrong state', async () => {
    expect(
      await ok(
        'mutation { suspendDomain(input: { domain: { name: "web" } }) { previousState state domain { state } } }',
      ),
    ).toEqual({
      suspendDomain: { previousState: 'RUNNING', state: 'PAUSED', domain: { state: 'PAUSED' } },
    });
    const again = await gw.query('mutation { suspendDomain(input: { domain: { name: "web" } }) { state } }');
    expect(again.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_STATE', state: 'PAUSED' });
    expect(await ok('mutation { resumeDomain(input: { domain: { name: "web" } }) { previousState state } }')).toEqual({
      resumeDomain: { previousState: 'PAUSED', state: 'RUNNING' },
    });
  });

  it('destroys, starts, reboots, shuts down (forcing after a timeout) and undefines', async () => {
    await ok('mutation { destroyDomain(input: { domain: { name: "web" } }) { state } }');
    const started = await ok<{ startDomain: { domain: { runtimeId: number; active: boolean } } }>(
      'mutation { startDomain(input: { domain: { name: "web" } }) { domain { runtimeId active } } }',
    );
    expect(started.startDomain.domain.active).toBe(true);
    expect(started.startDomain.domain.runtimeId).toBeGreaterThan(0);
    await ok('mutation { rebootDomain(input: { domain: { name: "web" } }) { state } }');
    expect(
      await ok('mutation { shutdownDomain(input: { domain: { name: "web" }, timeoutSeconds: 5 }) { state forced } }'),
    ).toEqual({
      shutdownDomain: { state: 'SHUTOFF', forced: false },
    });
    expect(await ok('mutation { undefineDomain(input: { domain: { name: "db" } }) { name uuid } }')).toEqual({
      undefineDomain: { name: 'db', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa1' },
    });
    const gone = await gw.query('{ domain(ref: { name: "db" }) { name } }');
    expect(gone.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });

  it('creates a transient domain from parameters, started at once', async () => {
    const res = await ok<{ createDomain: Record<string, unknown> }>(`mutation { createDomain(input: { domain: {
      name: "fresh", description: "made by virtql", vcpus: 2, memoryKiB: "262144", bootDevices: [NETWORK, HD] } }) {
      name state persistent vcpus maxMemoryKiB description xml } }`);
    expect(res.createDomain).toMatchObject({
      name: 'fresh',
      state: 'RUNNING',
      persistent: false,
      vcpus: 2,
      maxMemoryKiB: '262144',
      description: 'made by virtql',
    });
    expect(res.createDomain.xml).toMatch(/<boot dev='network'\/>\s*<boot dev='hd'\/>/);
  });

  it('defines a persistent domain from parameters (with autostart) and from XML, not started', async () => {
    expect(
      await ok(`mutation { defineDomain(input: { domain: { name: "def1" }, autostart: true }) {
        name state persistent autostart vcpus memoryKiB } }`),
    ).toEqual({
      defineDomain: {
        name: 'def1',
        state: 'SHUTOFF',
        persistent: true,
        autostart: true,
        vcpus: 1,
        memoryKiB: '524288',
      },
    });
    const xml = '<domain type="test"><name>def2</name><memory>131072</memory><os><type>hvm</type></os></domain>';
    expect(
      await ok('mutation ($xml: String!) { defineDomainFromXml(input: { xml: $xml }) { name autostart } }', { xml }),
    ).toEqual({
      defineDomainFromXml: { name: 'def2', autostart: false },
    });
    const created = await ok(
      'mutation ($xml: String!) { createDomainFromXml(input: { xml: $xml }) { name persistent } }',
      {
        xml: xml.replace('def2', 'def3'),
      },
    );
    expect(created).toEqual({ createDomainFromXml: { name: 'def3', persistent: false } });
  });

  it('changes memory and vCPUs in the scope asked, by default live when running and config when stopped', async () => {
    const live = await ok(`mutation {
      mem: setDomainMemory(input: { domain: { name: "web" }, memoryKiB: "262144" }) { memoryKiB }
      cpu: setDomainVcpus(input: { domain: { name: "web" }, vcpus: 1 }) { vcpus } }`);
    expect(live).toEqual({ mem: { memoryKiB: '262144' }, cpu: { vcpus: 1 } });
    const stopped = await ok(`mutation {
      max: setDomainMaxMemory(input: { domain: { name: "db" }, memoryKiB: "4194304" }) { maxMemoryKiB }
      cpu: setDomainVcpus(input: { domain: { name: "db" }, vcpus: 2, scope: CONFIG }) { vcpus } }`);
    expect(stopped).toEqual({ max: { maxMemoryKiB: '4194304' }, cpu: { vcpus: 2 } });
  });

  it('configures the persistent definition, changing only the fields named', async () => {
    const res = await ok<{ configureDomain: { previousXml: string; xml: string; domain: Record<string, unknown> } }>(
      `mutation { configureDomain(input: { domain: { name: "db" }, config: { vcpus: 3, description: "reconfigured" } }) {
        previousXml xml domain { vcpus maxVcpus description } } }`,
    );
    const { previousXml, xml, domain } = res.configureDomain;
    expect(domain).toEqual({ vcpus: 3, maxVcpus: 3, description: 'reconfigured' });
    const removed = previousXml.split('\n').filter((l) => !xml.split('\n').includes(l));
    const added = xml.split('\n').filter((l) => !previousXml.split('\n').includes(l));
    expect(removed.map((l) => l.trim())).toEqual(["<vcpu placement='static'>4</vcpu>"]);
    expect(added.map((l) => l.trim()).sort()).toEqual([
      '<description>reconfigured</description>',
      "<vcpu placement='static'>3</vcpu>",
    ]);
  });

  it('makes a transient domain persistent when configuring it', async () => {
    await ok('mutation { createDomain(input: { domain: { name: "passing", vcpus: 1 } }) { name } }');
    const res = await ok<{ configureDomain: { domain: { persistent: boolean; state: string }; xml: string } }>(
      'mutation { configureDomain(input: { domain: { name: "passing" }, config: { maxMemoryKiB: "1048576" } }) { xml domain { persistent state } } }',
    );
    expect(res.configureDomain.domain).toEqual({ persistent: true, state: 'RUNNING' });
    expect(res.configureDomain.xml).toContain("<memory unit='KiB'>1048576</memory>");
  });

  it('sets autostart and refuses it on a transient domain', async () => {
    expect(
      await ok('mutation { setDomainAutostart(input: { domain: { name: "db" }, autostart: true }) { autostart } }'),
    ).toEqual({
      setDomainAutostart: { autostart: true },
    });
    await ok('mutation { createDomain(input: { domain: { name: "tmp" } }) { name } }');
    const res = await gw.query(
      'mutation { setDomainAutostart(input: { domain: { name: "tmp" }, autostart: true }) { name } }',
    );
    expect(res.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
  });

  it('answers what the test driver cannot do (device hot-plug) with UNSUPPORTED', async () => {
    const res = await gw.query(`mutation { attachDisk(input: { domain: { name: "web" },
      disk: { kind: FILE, sourcePath: "/default-pool/web.img", targetDevice: "vdb" } }) { name } }`);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNSUPPORTED', libvirt: { codeName: 'NO_SUPPORT' } });
  });
});

describe('Network, pool, volume and interface mutations on the test driver', () => {
  it('creates a simple NAT network with DHCP, stops, starts and undefines it', async () => {
    const res = await ok(`mutation { createSimpleNetwork(input: { network: { name: "simple", ipAddress: "10.20.0.1",
      netmask: "255.255.255.0", dhcpRange: { start: "10.20.0.100", end: "10.20.0.200" } } }) {
      name active persistent autostart forwardMode ips { address netmask dhcpRanges { start end } } } }`);
    expect(res).toEqual({
      createSimpleNetwork: {
        name: 'simple',
        active: true,
        persistent: true,
        autostart: true,
        forwardMode: 'NAT',
        ips: [
          {
            address: '10.20.0.1',
            netmask: '255.255.255.0',
            dhcpRanges: [{ start: '10.20.0.100', end: '10.20.0.200' }],
          },
        ],
      },
    });
    expect(await ok('mutation { stopNetwork(input: { name: "simple" }) { active } }')).toEqual({
      stopNetwork: { active: false },
    });
    const twice = await gw.query('mutation { stopNetwork(input: { name: "simple" }) { active } }');
    expect(twice.errors?.[0]?.extensions?.code).toBe('INVALID_STATE');
    expect(await ok('mutation { startNetwork(input: { name: "simple" }) { active } }')).toEqual({
      startNetwork: { active: true },
    });
    await ok('mutation { setNetworkAutostart(input: { name: "simple", autostart: false }) { autostart } }');
    await ok('mutation { stopNetwork(input: { name: "simple" }) { name } }');
    expect(await ok('mutation { undefineNetwork(input: { name: "simple" }) { name } }')).toEqual({
      undefineNetwork: { name: 'simple' },
    });
  });

  it('creates a transient network from XML that vanishes when stopped', async () => {
    const xml = '<network><name>transient</name><bridge name="vt0"/></network>';
    expect(
      await ok(
        'mutation ($xml: String!) { createNetwork(input: { xml: $xml, persistent: false }) { name persistent active } }',
        {
          xml,
        },
      ),
    ).toEqual({ createNetwork: { name: 'transient', persistent: false, active: true } });
  });

  it('creates a pool (define, build, start, autostart), a volume in it, and deletes both', async () => {
    const pool = '<pool type="dir"><name>made</name><target><path>/made</path></target></pool>';
    expect(
      await ok(
        'mutation ($xml: String!) { createStoragePool(input: { xml: $xml }) { name state active persistent autostart } }',
        {
          xml: pool,
        },
      ),
    ).toEqual({
      createStoragePool: { name: 'made', state: 'RUNNING', active: true, persistent: true, autostart: true },
    });
    const vol = '<volume><name>v1.img</name><capacity unit="MiB">8</capacity></volume>';
    expect(
      await ok(
        'mutation ($xml: String!) { createVolume(input: { pool: "made", xml: $xml }) { name path capacityBytes pool { name } } }',
        {
          xml: vol,
        },
      ),
    ).toEqual({
      createVolume: { name: 'v1.img', path: '/made/v1.img', capacityBytes: String(8 << 20), pool: { name: 'made' } },
    });
    await ok('mutation { refreshStoragePool(input: { name: "made" }) { name } }');
    expect(await ok('mutation { deleteVolume(input: { ref: { path: "/made/v1.img" } }) { name } }')).toEqual({
      deleteVolume: { name: '/made/v1.img' },
    });
    await ok('mutation { stopStoragePool(input: { name: "made" }) { active } }');
    expect(await ok('mutation { undefineStoragePool(input: { name: "made" }) { name } }')).toEqual({
      undefineStoragePool: { name: 'made' },
    });
  });

  it('defines an ethernet interface, starts and stops it idempotently, and undefines it', async () => {
    expect(
      await ok(`mutation { defineEthernetInterface(input: { interface: { name: "eth9", startMode: HOTPLUG,
        ipv4: { address: "10.9.0.2", prefix: 16 } } }) { name active startMode addresses { address prefix } } }`),
    ).toEqual({
      defineEthernetInterface: {
        name: 'eth9',
        active: false,
        startMode: 'HOTPLUG',
        addresses: [{ address: '10.9.0.2', prefix: 16 }],
      },
    });
    await ok('mutation { startInterface(input: { name: "eth9" }) { active } }');
    expect(await ok('mutation { startInterface(input: { name: "eth9" }) { active } }')).toEqual({
      startInterface: { active: true },
    });
    await ok('mutation { stopInterface(input: { name: "eth9" }) { active } }');
    expect(await ok('mutation { stopInterface(input: { name: "eth9" }) { active } }')).toEqual({
      stopInterface: { active: false },
    });
    expect(await ok('mutation { undefineInterface(input: { name: "eth9" }) { name } }')).toEqual({
      undefineInterface: { name: 'eth9' },
    });
  });
});

describe('Bad input: a typed error naming the field, and nothing changes', () => {
  it.each([
    ['createDomain: bad name', 'mutation { createDomain(input: { domain: { name: "a b" } }) { name } }', 'domain.name'],
    [
      'createDomain: taken name',
      'mutation { createDomain(input: { domain: { name: "web" } }) { name } }',
      'domain.name',
    ],
    [
      'createDomain: too little memory',
      'mutation { createDomain(input: { domain: { name: "x", memoryKiB: "16" } }) { name } }',
      'domain.memoryKiB',
    ],
    [
      'createDomain: zero vCPUs',
      'mutation { createDomain(input: { domain: { name: "x", vcpus: 0 } }) { name } }',
      'domain.vcpus',
    ],
    [
      'defineDomain: 4 boot devices',
      'mutation { defineDomain(input: { domain: { name: "x", bootDevices: [HD, FD, CDROM, NETWORK] } }) { name } }',
      'domain.bootDevices',
    ],
    [
      'defineDomain: a repeated boot device',
      'mutation { defineDomain(input: { domain: { name: "x", bootDevices: [HD, HD] } }) { name } }',
      'domain.bootDevices',
    ],
    ['defineDomainFromXml: malformed', 'mutation { defineDomainFromXml(input: { xml: "<domain" }) { name } }', 'xml'],
    [
      'defineDomainFromXml: existing name',
      'mutation { defineDomainFromXml(input: { xml: "<domain type=\\"test\\"><name>db</name><memory>65536</memory><os><type>hvm</type></os></domain>" }) { name } }',
      'xml',
    ],
    [
      'setDomainVcpus: zero',
      'mutation { setDomainVcpus(input: { domain: { name: "web" }, vcpus: 0 }) { name } }',
      'vcpus',
    ],
    [
      'setDomainMemory: negative',
      'mutation { setDomainMemory(input: { domain: { name: "web" }, memoryKiB: "-1" }) { name } }',
      'memoryKiB',
    ],
    [
      'undefineDomain: by runtime id',
      'mutation { undefineDomain(input: { domain: { runtimeId: 1 } }) { name } }',
      'domain.runtimeId',
    ],
    [
      'attachDisk: relative path',
      'mutation { attachDisk(input: { domain: { name: "web" }, disk: { kind: FILE, sourcePath: "x.img", targetDevice: "vdb" } }) { name } }',
      'disk.sourcePath',
    ],
    [
      'attachDisk: bad target',
      'mutation { attachDisk(input: { domain: { name: "web" }, disk: { kind: FILE, sourcePath: "/x.img", targetDevice: "eth0" } }) { name } }',
      'disk.targetDevice',
    ],
    [
      'attachNetwork: bad MAC',
      'mutation { attachNetwork(input: { domain: { name: "web" }, nic: { kind: NETWORK, source: "lan", mac: "52:54:00:zz:00:01" } }) { name } }',
      'nic.mac',
    ],
    [
      'detachNetwork: neither device nor MAC',
      'mutation { detachNetwork(input: { domain: { name: "web" } }) { name } }',
      'targetDevice',
    ],
    [
      'createSimpleNetwork: NAT without IP',
      'mutation { createSimpleNetwork(input: { network: { name: "n1", forwardMode: NAT } }) { name } }',
      'network.ipAddress',
    ],
    [
      'createSimpleNetwork: DHCP outside subnet',
      'mutation { createSimpleNetwork(input: { network: { name: "n1", ipAddress: "10.1.0.1", netmask: "255.255.255.0", dhcpRange: { start: "10.2.0.5", end: "10.2.0.9" } } }) { name } }',
      'network.dhcpRange.start',
    ],
    [
      'createSimpleNetwork: DHCP start after stop',
      'mutation { createSimpleNetwork(input: { network: { name: "n1", ipAddress: "10.1.0.1", netmask: "255.255.255.0", dhcpRange: { start: "10.1.0.50", end: "10.1.0.9" } } }) { name } }',
      'network.dhcpRange',
    ],
    [
      'createSimpleNetwork: bad netmask',
      'mutation { createSimpleNetwork(input: { network: { name: "n1", ipAddress: "10.1.0.1", netmask: "255.0.255.0" } }) { name } }',
      'network.netmask',
    ],
    [
      'createNetwork: taken name',
      'mutation { createNetwork(input: { xml: "<network><name>lan</name></network>" }) { name } }',
      'name',
    ],
    ['createStoragePool: malformed', 'mutation { createStoragePool(input: { xml: "<pool" }) { name } }', 'xml'],
    [
      'createVolume: malformed',
      'mutation { createVolume(input: { pool: "default-pool", xml: "<volume>" }) { name } }',
      'xml',
    ],
    [
      'defineEthernetInterface: prefix without address',
      'mutation { defineEthernetInterface(input: { interface: { name: "eth7", ipv4: { prefix: 24 } } }) { name } }',
      'interface.ipv4',
    ],
    [
      'defineEthernetInterface: prefix 33',
      'mutation { defineEthernetInterface(input: { interface: { name: "eth7", ipv4: { address: "10.0.0.1", prefix: 33 } } }) { name } }',
      'interface.ipv4.prefix',
    ],
    [
      'shutdownDomain: zero timeout',
      'mutation { shutdownDomain(input: { domain: { name: "web" }, timeoutSeconds: 0 }) { state } }',
      'timeoutSeconds',
    ],
  ])('%s', async (_what, mutation, field) => {
    const before = await hostState();
    const res = await gw.query(mutation);
    // The mutation field alone is null (mutations are nullable: partial success), with its error.
    expect(Object.values(res.data ?? {})).toEqual([null]);
    expect(res.errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
    expect(String(res.errors?.[0]?.extensions?.field)).toMatch(new RegExp(`^${field.replace(/\./g, '\\.')}`));
    expect(res.errors?.[0]?.message).toMatch(/^[\w.]+: \S/);
    expect(await hostState()).toEqual(before);
  });

  it.each([
    ['an unknown domain', 'mutation { suspendDomain(input: { domain: { name: "ghost" } }) { state } }', 'NOT_FOUND'],
    ['an unknown network', 'mutation { startNetwork(input: { name: "ghost" }) { name } }', 'NOT_FOUND'],
    ['an unknown pool', 'mutation { startStoragePool(input: { name: "ghost" }) { name } }', 'NOT_FOUND'],
    ['an unknown volume', 'mutation { deleteVolume(input: { ref: { key: "ghost" } }) { name } }', 'NOT_FOUND'],
    ['an unknown interface', 'mutation { startInterface(input: { name: "ghost0" }) { name } }', 'NOT_FOUND'],
    [
      'an unknown host',
      'mutation { startDomain(input: { host: "mars", domain: { name: "db" } }) { state } }',
      'UNKNOWN_HOST',
    ],
    ['a wrong state', 'mutation { resumeDomain(input: { domain: { name: "web" } }) { state } }', 'INVALID_STATE'],
    ['starting an active network', 'mutation { startNetwork(input: { name: "lan" }) { name } }', 'INVALID_STATE'],
    [
      'undefining an active pool',
      'mutation { undefineStoragePool(input: { name: "default-pool" }) { name } }',
      'INVALID_STATE',
    ],
    [
      'building an active pool',
      'mutation { buildStoragePool(input: { name: "default-pool" }) { name } }',
      'INVALID_STATE',
    ],
    [
      'detaching a disk that is not there',
      'mutation { detachDisk(input: { domain: { name: "web" }, sourcePath: "/nowhere.img" }) { name } }',
      'NOT_FOUND',
    ],
    [
      'malformed device XML',
      'mutation { attachDevice(input: { domain: { name: "web" }, xml: "<disk" }) { name } }',
      'INVALID_INPUT',
    ],
    [
      'a migration to an unknown host',
      'mutation { migrateDomain(input: { domain: { name: "web" }, destination: { host: "mars" } }) { uuid } }',
      'UNKNOWN_HOST',
    ],
  ])('%s', async (_what, mutation, code) => {
    const before = await hostState();
    const res = await gw.query(mutation);
    expect(res.errors?.[0]?.extensions?.code).toBe(code);
    expect(await hostState()).toEqual(before);
  });
});
