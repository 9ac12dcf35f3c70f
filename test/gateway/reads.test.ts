import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection } from '../../src/libvirt/index.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

let gw: TestGateway;
let direct: Connection;

beforeAll(async () => {
  gw = await startGateway({ fixture: fixtureUri, builtin: 'test:///default' });
  direct = await Connection.open('test:///default');
});
afterAll(async () => {
  await gw.close();
  await direct.close();
});

describe('Host and hypervisor', () => {
  it('answers host info cross-checked against the binding', async () => {
    const res = await gw.query(`{ host(name: "builtin") { name uri connected hostname
      info { cpuModel memoryKiB cpus mhz numaNodes sockets cores threads } freeMemoryBytes } }`);
    expect(res.errors).toBeUndefined();
    const node = await direct.nodeInfo();
    expect(res.data?.host).toEqual({
      name: 'builtin',
      uri: 'test:///default',
      connected: true,
      hostname: await direct.hostname(),
      info: {
        cpuModel: node.model,
        memoryKiB: String(node.memoryKiB),
        cpus: node.cpus,
        mhz: node.mhz,
        numaNodes: node.numaNodes,
        sockets: node.sockets,
        cores: node.cores,
        threads: node.threads,
      },
      freeMemoryBytes: String(await direct.freeMemoryBytes()),
    });
  });

  it('lists every configured host and uses the first as default', async () => {
    const res = await gw.query('{ hosts { name } host { name } }');
    expect(res.data).toEqual({ hosts: [{ name: 'fixture' }, { name: 'builtin' }], host: { name: 'fixture' } });
  });

  it('answers hypervisor type, versions and parsed capabilities', async () => {
    interface Hv {
      type: string;
      libVersion: { text: string };
      capabilitiesXml: string;
      capabilities: { domainTypes: string[]; guests: unknown[] };
    }
    const res = await gw.query<{ host: { hypervisor: Hv } }>(`{ host(name: "builtin") {
      hypervisor { type version { text } libVersion { major text encoded }
        capabilitiesXml capabilities { hostArch arches domainTypes machines guests { osType arch domainTypes } } } } }`);
    expect(res.errors).toBeUndefined();
    const h = res.data?.host.hypervisor as Hv;
    expect(h.type).toBe('TEST');
    expect(h.libVersion).toMatchObject({ text: (await direct.libVersion()).text });
    expect(h.capabilitiesXml).toBe(await direct.capabilities());
    expect(h.capabilities).toMatchObject({ domainTypes: ['test'] });
    expect(h.capabilities.guests.length).toBeGreaterThan(0);
  });
});

describe('Domains', () => {
  it('lists domains with state, resources and flags, as the binding reports them', async () => {
    const res = await gw.query(`{ host(name: "fixture") { domains { name uuid runtimeId active state stateReason
      vcpus maxVcpus memoryKiB maxMemoryKiB cpuTimeNs osType description persistent autostart } } }`);
    expect(res.errors).toBeUndefined();
    const domains = (res.data as { host: { domains: Array<Record<string, unknown>> } }).host.domains;
    expect(domains.map((d) => d.name).sort()).toEqual(['db', 'web']);
    const web = domains.find((d) => d.name === 'web');
    expect(web).toMatchObject({
      uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0',
      active: true,
      state: 'RUNNING',
      vcpus: 2,
      maxVcpus: 2,
      memoryKiB: '524288',
      maxMemoryKiB: '1048576',
      osType: 'HVM',
      description: 'front end',
      persistent: true,
      autostart: false,
    });
    expect(web?.runtimeId).toBeGreaterThan(0);
    expect(domains.find((d) => d.name === 'db')).toMatchObject({ active: false, state: 'SHUTOFF', runtimeId: null });
  });

  it('filters by state', async () => {
    const res = await gw.query(`{ host(name: "fixture") {
      active: domains(filter: { active: true }) { name } inactive: domains(filter: { active: false }) { name } } }`);
    expect(res.data?.host).toEqual({ active: [{ name: 'web' }], inactive: [{ name: 'db' }] });
  });

  it('finds one domain by name, UUID or runtime id, with the same global ID', async () => {
    const res = await gw.query<{ host: Record<string, { id: string; name: string }> }>(`{ host(name: "fixture") {
      a: domain(ref: { name: "web" }) { id name }
      b: domain(ref: { uuid: "4DEA22B3-1D52-D8F3-2516-782E98AB3FA0" }) { id name }
      c: domain(ref: { runtimeId: 1 }) { id name } } }`);
    expect(res.errors).toBeUndefined();
    const { a, b, c } = res.data?.host ?? {};
    expect(a?.name).toBe('web');
    expect(b?.id).toBe(a?.id);
    expect(c?.id).toBe(a?.id);
    const byNode = await gw.query(`query ($id: ID!) { node(id: $id) { ... on Domain { name host { name } } } }`, {
      id: a?.id,
    });
    expect(byNode.data?.node).toEqual({ name: 'web', host: { name: 'fixture' } });
  });

  it('returns XML live and inactive', async () => {
    const res = await gw.query<{
      domain: { live: string; inactive: string };
    }>(`{ domain(host: "fixture", ref: { name: "web" }) {
      live: xml inactive: xml(inactive: true) } }`);
    const web = await (await Connection.open(fixtureUri)).domainByName('web');
    expect(res.data?.domain.live).toContain('<name>web</name>');
    expect(res.data?.domain.live).toContain("id='1'");
    expect(res.data?.domain.inactive).not.toContain("id='1'");
    await web.connection.close();
  });

  it('resolves disks to volumes and pools, and NICs to networks, in one query', async () => {
    const res = await gw.query(`{ domain(host: "fixture", ref: { name: "web" }) {
      disks { type device sourcePath targetDevice bus capacityBytes allocationBytes
        volume { name path key capacityBytes pool { name state } } }
      interfaces { type mac sourceName targetDevice xml network { name bridge forwardMode active } }
      nic: interface(targetDevice: "testnet0") { mac } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data?.domain).toEqual({
      disks: [
        {
          type: 'FILE',
          device: 'DISK',
          sourcePath: '/default-pool/web.img',
          targetDevice: 'vda',
          bus: 'VIRTIO',
          capacityBytes: String(10n * 2n ** 30n),
          allocationBytes: String(2n ** 30n),
          volume: {
            name: 'web.img',
            path: '/default-pool/web.img',
            key: '/default-pool/web.img',
            capacityBytes: String(10n * 2n ** 30n),
            pool: { name: 'default-pool', state: 'RUNNING' },
          },
        },
      ],
      interfaces: [
        {
          type: 'NETWORK',
          mac: '52:54:00:00:00:01',
          sourceName: 'lan',
          targetDevice: 'testnet0',
          xml: expect.stringMatching(
            /^<interface type="network">[\s\S]*<mac address="52:54:00:00:00:01"\/>[\s\S]*<\/interface>$/,
          ),
          network: { name: 'lan', bridge: 'virbr-lan', forwardMode: 'NAT', active: true },
        },
      ],
      nic: { mac: '52:54:00:00:00:01' },
    });
  });
});

describe('Networks, pools, volumes and host interfaces', () => {
  it('reads a network with its IP ranges', async () => {
    const res = await gw.query(`{ host(name: "fixture") { networks { name uuid active persistent autostart bridge
      forwardMode ips { family address netmask dhcpRanges { start end } } } network(name: "lan") { name } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data?.host).toEqual({
      networks: [
        {
          name: 'lan',
          uuid: '004b96e1-2d78-c30f-5aa5-f03c87d21e70',
          active: true,
          persistent: true,
          autostart: false,
          bridge: 'virbr-lan',
          forwardMode: 'NAT',
          ips: [
            {
              family: 'IPV4',
              address: '192.168.150.1',
              netmask: '255.255.255.0',
              dhcpRanges: [{ start: '192.168.150.2', end: '192.168.150.254' }],
            },
          ],
        },
      ],
      network: { name: 'lan' },
    });
  });

  it('narrows pools, interfaces and volumes with the same filter vocabulary as domains and networks', async () => {
    const res = await gw.query<{
      host: {
        storagePools: Array<{ name: string; volumes: Array<{ name: string }> }>;
        interfaces: Array<{ name: string }>;
      };
    }>(`{ host(name: "fixture") {
      storagePools(filter: { nameGlob: "default-*", persistent: true }) { name volumes(filter: { nameContains: "WEB" }) { name } }
      interfaces(filter: { nameGlob: "eth1" }) { name } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data?.host.storagePools.map((p) => p.name)).toEqual(['default-pool']);
    expect(res.data?.host.storagePools[0]?.volumes.map((v) => v.name)).toEqual(['web.img']);
    expect(res.data?.host.interfaces).toEqual([{ name: 'eth1' }]);
  });

  it('reads pools with sizes and volumes, and a volume by path and key', async () => {
    const res = await gw.query(`{ host(name: "fixture") {
      storagePools(filter: { active: true }) { name state capacityBytes allocationBytes availableBytes persistent autostart type targetPath
        volumes { name path type format capacityBytes allocationBytes } }
      byPath: volume(ref: { path: "/default-pool/web.img" }) { name pool { name } }
      byKey: volume(ref: { key: "/default-pool/web.img" }) { name } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data?.host).toMatchObject({
      storagePools: [
        {
          name: 'default-pool',
          state: 'RUNNING',
          capacityBytes: String(100n * 2n ** 30n),
          persistent: true,
          autostart: false,
          type: 'DIR',
          targetPath: '/default-pool',
          volumes: [
            { name: 'web.img', path: '/default-pool/web.img', type: 'FILE', capacityBytes: String(10n * 2n ** 30n) },
          ],
        },
      ],
      byPath: { name: 'web.img', pool: { name: 'default-pool' } },
      byKey: { name: 'web.img' },
    });
  });

  it('reads host interfaces by name and by MAC', async () => {
    const res =
      await gw.query(`{ host(name: "fixture") { interfaces { name mac active type startMode mtu addresses { address prefix } }
      byMac: interface(ref: { mac: "AA:BB:CC:DD:EE:FF" }) { name } byName: interface(ref: { name: "eth1" }) { mac } } }`);
    expect(res.errors).toBeUndefined();
    expect(res.data?.host).toEqual({
      interfaces: [
        {
          name: 'eth1',
          mac: 'aa:bb:cc:dd:ee:ff',
          active: true,
          type: 'ETHERNET',
          startMode: 'ONBOOT',
          mtu: 1492,
          addresses: [{ address: '192.168.0.5', prefix: 24 }],
        },
      ],
      byMac: { name: 'eth1' },
      byName: { mac: 'aa:bb:cc:dd:ee:ff' },
    });
  });
});
