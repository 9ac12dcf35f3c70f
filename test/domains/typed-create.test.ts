import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { parseDomainXml } from '../../src/libvirt/xml/domain-xml.ts';
import { type GraphQLResponse, startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// The typed create on the test driver: what it writes (libvirt's own XML is the oracle), the
// volumes it makes, and the inputs and grants it refuses without making anything.

const tokens = { admin: createApiToken(), tenant: createApiToken() };
let gw: TestGateway;

const as =
  (who: keyof typeof tokens) =>
  <D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<GraphQLResponse<D>> =>
    gw.query<D>(query, variables, { authorization: `Bearer ${tokens[who].secret}` });
const admin = as('admin');
const tenant = as('tenant');

const DEFINE =
  'mutation ($d: DomainInput!) { defineDomain(input: { domain: $d, autostart: true }) { name autostart xml(inactive: true) } }';

/** What the host holds: domains and the volumes of every pool, as the admin sees them. */
async function hostState(): Promise<unknown> {
  const res = await admin('{ host { domains { name } storagePools { name volumes { name capacityBytes } } } }');
  expect(res.errors).toBeUndefined();
  return res.data;
}

beforeEach(async () => {
  gw = await startGateway({ fixture: fixtureUri }, undefined, {
    config: {
      auth: {
        tokens: Object.entries(tokens).map(([name, t]) => ({ name, sha256: t.sha256 })),
        roles: { creator: ['VM.Audit', 'VM.Allocate', 'Storage.Audit', 'Storage.Use', 'Network.Audit', 'Network.Use'] },
        grants: [
          { identity: 'admin', role: 'admin' },
          { identity: 'tenant', role: 'creator', domains: ['t-*'], pools: ['default-pool'], networks: ['lan'] },
        ],
      },
    },
  });
});
afterEach(async () => {
  await gw.close();
});

describe('defineDomain from a typed input', () => {
  it('writes disks, a CD-ROM, NICs, a display and a serial console, and makes the new volumes', async () => {
    const res = await admin<{ defineDomain: { name: string; autostart: boolean; xml: string } }>(DEFINE, {
      d: {
        name: 'typed',
        vcpus: 2,
        memoryKiB: '262144',
        disks: [
          { newVolume: { pool: 'default-pool', name: 'typed-root.qcow2', capacityBytes: '1073741824' } },
          { volume: { path: '/default-pool/web.img' }, device: 'CDROM' },
          {
            newVolume: { pool: 'default-pool', name: 'typed-data.raw', capacityBytes: '1048576', format: 'raw' },
            targetDevice: 'vdc',
          },
        ],
        interfaces: [{ kind: 'NETWORK', source: 'lan', mac: '52:54:00:00:00:07' }],
        graphics: [{ type: 'VNC', listen: '0.0.0.0', port: 5907, password: 'secret' }],
        serial: true,
        cpu: { mode: 'HOST_PASSTHROUGH' },
      },
    });
    expect(res.errors).toBeUndefined();
    const d = res.data?.defineDomain;
    expect(d).toMatchObject({ name: 'typed', autostart: true });
    const parsed = parseDomainXml(d?.xml ?? '');
    // libvirt lists disks by bus: compare them by target.
    const disks = parsed.disks.map((x) => [
      x.target.dev,
      x.device,
      x.target.bus,
      x.sourcePath,
      x.driverType,
      x.readonly,
    ]);
    expect(disks.sort()).toEqual([
      ['sda', 'cdrom', 'sata', '/default-pool/web.img', 'raw', true],
      ['vda', 'disk', 'virtio', '/default-pool/typed-root.qcow2', 'qcow2', false],
      ['vdc', 'disk', 'virtio', '/default-pool/typed-data.raw', 'raw', false],
    ]);
    expect(parsed.interfaces).toMatchObject([
      { type: 'network', source: { network: 'lan' }, mac: '52:54:00:00:00:07', model: 'virtio' },
    ]);
    expect(parsed.graphics).toMatchObject([{ type: 'vnc', port: 5907, autoport: false, listen: '0.0.0.0' }]);
    expect(d?.xml).toMatch(/<serial type='pty'>/);
    expect(d?.xml).toMatch(/<cpu mode='host-passthrough'/);
    // The password is set (libvirt hides it without the SECURE flag) but never read back.
    expect(d?.xml).not.toContain('secret');
    const volumes = (await hostState()) as {
      host: { storagePools: Array<{ volumes: Array<{ name: string; capacityBytes: string }> }> };
    };
    expect(volumes.host.storagePools[0]?.volumes).toEqual(
      expect.arrayContaining([
        { name: 'typed-root.qcow2', capacityBytes: '1073741824' },
        { name: 'typed-data.raw', capacityBytes: '1048576' },
      ]),
    );
  });

  it('makes a linked clone: a qcow2 overlay on the base volume', async () => {
    const res = await admin<{ defineDomain: { xml: string } }>(DEFINE, {
      d: {
        name: 'linked',
        disks: [{ linkedClone: { base: { path: '/default-pool/web.img' }, name: 'linked-vda.qcow2' } }],
      },
    });
    expect(res.errors).toBeUndefined();
    const vol = await admin<{ volume: { capacityBytes: string; xml: string } }>(
      '{ volume(ref: { path: "/default-pool/linked-vda.qcow2" }) { capacityBytes xml } }',
    );
    expect(vol.data?.volume.capacityBytes).toBe(String(10n << 30n));
    expect(vol.data?.volume.xml).toMatch(/<format type='qcow2'\/>/);
  });

  it('refuses bad inputs naming the field, and makes nothing', async () => {
    const before = await hostState();
    const cases: Array<[Record<string, unknown>, RegExp]> = [
      [{ name: 'bad', disks: [{}] }, /exactly one of volume, newVolume or linkedClone/],
      [
        {
          name: 'bad',
          disks: [
            {
              volume: { path: '/default-pool/web.img' },
              newVolume: { pool: 'default-pool', name: 'x', capacityBytes: '1' },
            },
          ],
        },
        /exactly one/,
      ],
      [
        {
          name: 'bad',
          disks: [{ newVolume: { pool: 'default-pool', name: 'x', capacityBytes: '1' }, device: 'CDROM' }],
        },
        /CD-ROM/,
      ],
      [
        { name: 'bad', disks: [{ newVolume: { pool: 'default-pool', name: 'web.img', capacityBytes: '1' } }] },
        /already has a volume named web.img/,
      ],
      [{ name: 'bad', disks: [{ newVolume: { pool: 'default-pool', name: 'a/b', capacityBytes: '1' } }] }, /name/],
      [
        { name: 'bad', disks: [{ newVolume: { pool: 'default-pool', name: 'x', capacityBytes: '0' } }] },
        /at least 1 byte/,
      ],
      [
        {
          name: 'bad',
          disks: [
            { newVolume: { pool: 'default-pool', name: 'x', capacityBytes: '1' } },
            { volume: { path: '/etc/shadow' } },
          ],
        },
        /volume|not found/i,
      ],
      [{ name: 'bad', graphics: [{ password: 'nine-char' }] }, /at most 8 characters/],
      [{ name: 'bad', graphics: [{ listen: 'example.com' }] }, /IPv4 or IPv6 address/],
      [{ name: 'bad', cpu: { mode: 'CUSTOM' } }, /needs a model/],
      [{ name: 'bad', kernel: { kernel: { path: '/boot/vmlinuz' } } }, /not found|volume/i],
      [{ name: 'bad', cloudInit: { hostname: '-bad-' } }, /host name/],
      [{ name: 'bad', cloudInit: { sshAuthorizedKeys: ['not a key'] } }, /OpenSSH public key/],
      [{ name: 'bad', cloudInit: { userData: '#cloud-config\n' } }, /pool/],
      [{ name: 'web' }, /already exists/],
    ];
    for (const [d, message] of cases) {
      const res = await admin(DEFINE, { d });
      expect(res.errors?.[0]?.message, JSON.stringify(d)).toMatch(message);
      expect(['INVALID_INPUT', 'NOT_FOUND'], JSON.stringify(d)).toContain(res.errors?.[0]?.extensions?.code);
    }
    expect(await hostState()).toEqual(before);
  });

  it('needs Storage.Allocate on the pool for a new volume, and grants for every pool and network it names', async () => {
    const before = await hostState();
    const refused = await tenant(DEFINE, {
      d: {
        name: 't-vm',
        disks: [{ newVolume: { pool: 'default-pool', name: 't-vm.qcow2', capacityBytes: '1048576' } }],
      },
    });
    expect(refused.errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      privilege: 'Storage.Allocate',
      pool: 'default-pool',
    });
    const otherName = await tenant(DEFINE, { d: { name: 'not-mine' } });
    expect(otherName.errors?.[0]?.extensions?.code).toBe('FORBIDDEN');
    expect(await hostState()).toEqual(before);
    // What the grant covers goes through: a volume of its pool no hidden domain uses, a NIC on its network.
    const made = await admin(
      'mutation { createVolume(input: { pool: "default-pool", xml: "<volume><name>free.iso</name><capacity>1048576</capacity></volume>" }) { name } }',
    );
    expect(made.errors).toBeUndefined();
    const allowed = await tenant(DEFINE, {
      d: {
        name: 't-vm',
        disks: [{ volume: { path: '/default-pool/free.iso' }, device: 'CDROM' }],
        interfaces: [{ kind: 'NETWORK', source: 'lan' }],
      },
    });
    expect(allowed.errors).toBeUndefined();
  });
});
