import { mkdir, mkdtemp, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GraphQLResponse, startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

const SNAPSHOT = `{ host {
  domains { name xml(inactive: true) }
  networks { name xml }
  storagePools { name xml volumes { name } }
  interfaces { name }
} }`;

const ATTACH = 'mutation ($xml: String!) { attachDevice(input: { domain: { name: "web" }, xml: $xml }) { name } }';

function diskAt(path: string, type = 'file'): string {
  const attr = type === 'block' ? 'dev' : 'file';
  return `<disk type="${type}" device="disk"><source ${attr}="${path}"/><target dev="vdq" bus="virtio"/></disk>`;
}

function codeOf(res: GraphQLResponse): unknown {
  return res.errors?.[0]?.extensions?.code;
}

let base: string;
let root: string;

beforeAll(async () => {
  base = await mkdtemp(join(tmpdir(), 'virtql-paths-'));
  root = join(base, 'virtql');
  await mkdir(join(root, 'images'), { recursive: true });
  await mkdir(join(base, 'virtql-evil'), { recursive: true });
  await symlink('/etc', join(root, 'etc-link'));
  await symlink(join(root, 'images'), join(base, 'images-link'));
});
afterAll(() => rm(base, { recursive: true, force: true }));

describe('client paths against storage.allowedPaths', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ test: fixtureUri }, undefined, { config: { storage: { allowedPaths: [root] } } });
  });
  afterAll(() => gw?.close());

  it('refuses .., a symlink out of a root, a root’s prefix sibling, a relative path and /dev/sda', async () => {
    const before = await gw.query(SNAPSHOT);
    const escapes: Array<[string, string]> = [
      [`${root}/images/../../virtql-evil/x.img`, 'file'],
      [`${root}/etc-link/shadow`, 'file'],
      [`${root}-evil/x.img`, 'file'],
      ['/dev/sda', 'block'],
    ];
    // libvirt's schema types a disk source as an absolute path: a relative one never reaches the policy.
    const relative = await gw.query(ATTACH, { xml: diskAt('images/x.img', 'file') });
    expect(relative.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'xml' });
    expect(relative.errors?.[0]?.message).toMatch(/schema refuses it at line \d+/);
    for (const [path, type] of escapes) {
      const res = await gw.query(ATTACH, { xml: diskAt(path, type) });
      expect(res.errors?.[0]?.extensions, path).toMatchObject({
        code: 'UNSAFE_INPUT',
        element: 'source',
        path,
        allowedBy: 'storage.allowedPaths',
      });
    }
    const viaInput = await gw.query(`mutation { attachDisk(input: { domain: { name: "web" },
      disk: { kind: FILE, sourcePath: "${root}/etc-link/passwd", targetDevice: "vdb" } }) { name } }`);
    expect(viaInput.errors?.[0]?.extensions).toMatchObject({ code: 'UNSAFE_INPUT', path: `${root}/etc-link/passwd` });
    expect(viaInput.errors?.[0]?.message).toContain('/etc/passwd');
    expect(await gw.query(SNAPSHOT)).toEqual(before);
  });

  it('lets through paths inside a root, also through a symlink that stays inside and for files not yet made', async () => {
    for (const path of [`${root}/images/new.img`, `${root}/images/sub/dir/new.img`, `${base}/images-link/x.img`]) {
      const res = await gw.query(ATTACH, { xml: diskAt(path) });
      // The test driver cannot hot-plug: reaching libvirt's refusal means the policy let it through.
      expect(codeOf(res), path).toBe('UNSUPPORTED');
    }
    const pooled = await gw.query(ATTACH, { xml: diskAt('/default-pool/web.img') });
    expect(codeOf(pooled)).toBe('UNSUPPORTED');
  });

  it('checks pool targets, pool source devices and volume backing stores the same way', async () => {
    const before = await gw.query(SNAPSHOT);
    const pool = (type: string, inner: string) => `<pool type="${type}"><name>p-esc</name>${inner}</pool>`;
    const refused: Array<[string, Record<string, unknown>]> = [
      [
        pool('dir', `<target><path>${root}/images/../../elsewhere</path></target>`),
        { element: 'path', path: `${root}/images/../../elsewhere` },
      ],
      [pool('dir', '<target><path>relative/dir</path></target>'), { code: 'INVALID_INPUT', field: 'xml' }],
      [
        pool('logical', '<source><device path="/dev/sda"/></source><target><path>/dev/vg0</path></target>'),
        { element: 'device', path: '/dev/sda' },
      ],
      [
        pool(
          'netfs',
          '<source><host name="10.0.0.1"/><dir path="/export"/></source><target><path>/mnt</path></target>',
        ),
        { element: 'pool', allowedBy: 'xml.allow.poolTypes' },
      ],
    ];
    for (const [xml, ext] of refused) {
      const res = await gw.query('mutation ($xml: String!) { createStoragePool(input: { xml: $xml }) { name } }', {
        xml,
      });
      expect(res.errors?.[0]?.extensions, xml).toMatchObject({ code: 'UNSAFE_INPUT', ...ext });
    }
    const volume = `<volume><name>leak.qcow2</name><capacity>1048576</capacity>
      <target><format type="qcow2"/></target>
      <backingStore><path>/etc/shadow</path><format type="raw"/></backingStore></volume>`;
    const res = await gw.query(
      'mutation ($xml: String!) { createVolume(input: { pool: "default-pool", xml: $xml }) { name } }',
      {
        xml: volume,
      },
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNSAFE_INPUT', element: 'path', path: '/etc/shadow' });
    expect(await gw.query(SNAPSHOT)).toEqual(before);
    const ok = await gw.query('mutation ($xml: String!) { createStoragePool(input: { xml: $xml }) { name } }', {
      xml: pool('dir', `<target><path>${root}/images/pool</path></target>`),
    });
    expect(ok.errors).toBeUndefined();
  });
});

describe('network and host interface documents', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ test: fixtureUri });
  });
  afterAll(() => gw?.close());

  const NETWORK = 'mutation ($xml: String!) { createNetwork(input: { xml: $xml }) { name } }';
  const cases: Array<{ name: string; xml: string; ext: Record<string, unknown>; allow: Record<string, unknown> }> = [
    {
      name: 'a forward device the host lacks',
      xml: '<network><name>n-fwd</name><forward mode="nat" dev="nosuch0"/><ip address="10.6.0.1" netmask="255.255.255.0"/></network>',
      ext: { element: 'forward', allowedBy: 'xml.allow.unlistedNetworks' },
      allow: { xml: { allow: { unlistedNetworks: true } } },
    },
    {
      name: 'a forward <interface dev> the host lacks',
      xml: '<network><name>n-fwd2</name><forward mode="bridge"><interface dev="nosuch1"/></forward></network>',
      ext: { element: 'interface', allowedBy: 'xml.allow.unlistedNetworks' },
      allow: { xml: { allow: { unlistedNetworks: true } } },
    },
    {
      name: 'dnsmasq:options',
      xml: `<network xmlns:dnsmasq="http://libvirt.org/schemas/network/dnsmasq/1.0"><name>n-dns</name>
        <dnsmasq:options><dnsmasq:option value="dhcp-script=/tmp/x.sh"/></dnsmasq:options></network>`,
      ext: { element: 'dnsmasq:options', allowedBy: 'xml.allow.otherNamespaces' },
      allow: { xml: { allow: { otherNamespaces: true } } },
    },
    {
      name: 'a TFTP root outside storage',
      xml: '<network><name>n-tftp</name><ip address="10.9.0.1" netmask="255.255.255.0"><tftp root="/etc"/></ip></network>',
      ext: { element: 'tftp', path: '/etc', allowedBy: 'storage.allowedPaths' },
      allow: { storage: { allowedPaths: ['/etc'] } },
    },
  ];

  it('refuses each through createNetwork, and creates it once the config allows it', async () => {
    const before = await gw.query(SNAPSHOT);
    for (const c of cases) {
      const res = await gw.query(NETWORK, { xml: c.xml });
      expect(res.errors?.[0]?.extensions, c.name).toMatchObject({ code: 'UNSAFE_INPUT', ...c.ext });
    }
    expect(await gw.query(SNAPSHOT)).toEqual(before);
    for (const c of cases) {
      const allowed = await startGateway({ test: fixtureUri }, undefined, { config: c.allow });
      try {
        const res = await allowed.query(NETWORK, { xml: c.xml });
        expect(res.errors, c.name).toBeUndefined();
      } finally {
        await allowed.close();
      }
    }
  });

  it('accepts forwarding through an interface the host has, and checks createSimpleNetwork’s forwardDevice', async () => {
    const ok = await gw.query(NETWORK, {
      xml: '<network><name>n-eth1</name><forward mode="nat" dev="eth1"/><ip address="10.7.0.1" netmask="255.255.255.0"/></network>',
    });
    expect(ok.errors).toBeUndefined();
    const simple =
      await gw.query(`mutation { createSimpleNetwork(input: { network: { name: "n-simple", forwardDevice: "nosuch2",
      ipAddress: "10.8.0.1", netmask: "255.255.255.0" } }) { name } }`);
    expect(simple.errors?.[0]?.extensions).toMatchObject({ code: 'UNSAFE_INPUT', element: 'forward' });
  });

  it('refuses namespaced elements in a host interface document (libvirt’s schema has none there)', async () => {
    const xml = `<interface type="ethernet" name="eth9" xmlns:x="urn:x"><start mode="none"/><x:hook run="/tmp/x"/></interface>`;
    const res = await gw.query('mutation ($xml: String!) { defineInterface(input: { xml: $xml }) { name } }', { xml });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'xml' });
    const names = await gw.query<{ host: { interfaces: Array<{ name: string }> } }>('{ host { interfaces { name } } }');
    expect(names.data?.host.interfaces.map((i) => i.name)).not.toContain('eth9');
  });
});
