import { execFile } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/libvirt/index.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  DIR_POOL,
  NAT_NETWORK,
  openPrivateDaemon,
  privateDaemon,
  privateDaemonSkipReason,
} from '../support/private-daemon.ts';

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the QEMU mutation cases: ${skip}`);

const run = promisify(execFile);

describe.skipIf(skip !== undefined)('mutations on a private libvirtd with QEMU', () => {
  let gw: TestGateway;
  let c: Connection;

  async function ok<D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<D> {
    const res = await gw.query<D>(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data as D;
  }

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    gw = await startGateway({ qemu: daemon.uri });
    c = await openPrivateDaemon();
  });
  afterAll(async () => {
    for (const name of ['mut-vm']) {
      const d = await c.domainByName(name).catch(() => undefined);
      if (d && (await d.isActive())) await d.destroy();
      if (d && (await d.isPersistent())) await d.undefine();
    }
    for (const name of ['mut-net', 'mut-clash']) {
      const n = await c.networkByName(name).catch(() => undefined);
      if (n && (await n.isActive())) await n.stop();
      if (n && (await n.isPersistent().catch(() => false))) await n.undefine();
    }
    await gw?.close();
    await c?.close();
  });

  it('creates a NAT network with DHCP: the bridge exists and dnsmasq serves it; stopping removes the bridge', async () => {
    const res = await ok<{ createSimpleNetwork: { bridge: string; active: boolean } }>(`mutation {
      createSimpleNetwork(input: { network: { name: "mut-net", ipAddress: "10.77.0.1", netmask: "255.255.255.0",
        dhcpRange: { start: "10.77.0.10", end: "10.77.0.50" }, autostart: false } }) { bridge active } }`);
    expect(res.createSimpleNetwork.active).toBe(true);
    const bridge = res.createSimpleNetwork.bridge;
    expect(bridge).toMatch(/^virbr\d+$/);
    const pid = privateDaemon()?.root ? await netnsPid() : undefined;
    const links = await inNetns(pid, ['ip', '-o', 'link', 'show', bridge]);
    expect(links).toContain(bridge);
    const dnsmasq = await run('ps', ['-eo', 'args']);
    expect(dnsmasq.stdout).toMatch(/dnsmasq .*mut-net\.conf/);
    await ok('mutation { stopNetwork(input: { host: "qemu", name: "mut-net" }) { active } }');
    await expect(inNetns(pid, ['ip', '-o', 'link', 'show', bridge])).rejects.toThrow();
    await ok('mutation { undefineNetwork(input: { host: "qemu", name: "mut-net" }) { name } }');
  });

  it('rolls a network back when it cannot start (its subnet is taken): nothing stays defined', async () => {
    const nat = await c.networkByName(NAT_NETWORK);
    const address = /<ip address='([\d.]+)'/.exec(await nat.xml())?.[1];
    const xml = `<network><name>mut-clash</name><forward mode="nat"/><ip address="${address}" netmask="255.255.255.0"/></network>`;
    const res = await gw.query(
      'mutation ($xml: String!) { createNetwork(input: { host: "qemu", xml: $xml }) { name } }',
      { xml },
    );
    expect(res.errors?.[0]?.extensions?.libvirt).toBeDefined();
    expect((await c.networks()).map((n) => n.name)).not.toContain('mut-clash');
  });

  it('rolls a pool back when it cannot be built: nothing stays defined', async () => {
    const xml = '<pool type="dir"><name>mut-pool</name><target><path>/proc/virtql-cannot-exist</path></target></pool>';
    const res = await gw.query(
      'mutation ($xml: String!) { createStoragePool(input: { host: "qemu", xml: $xml }) { name } }',
      {
        xml,
      },
    );
    expect(res.errors).toHaveLength(1);
    expect((await c.storagePools()).map((p) => p.name)).not.toContain('mut-pool');
  });

  it('creates a qcow2 volume on disk and deletes it', async () => {
    const xml =
      '<volume><name>mut.qcow2</name><capacity unit="MiB">32</capacity><target><format type="qcow2"/></target></volume>';
    const res = await ok<{ createVolume: { path: string; format: string } }>(
      `mutation ($xml: String!) { createVolume(input: { host: "qemu", pool: "${DIR_POOL}", xml: $xml }) { path format capacityBytes } }`,
      { xml },
    );
    expect(res.createVolume.format).toBe('qcow2');
    expect((await stat(res.createVolume.path)).isFile()).toBe(true);
    await ok(`mutation { deleteVolume(input: { host: "qemu", ref: { path: "${res.createVolume.path}" } }) { name } }`);
    await expect(stat(res.createVolume.path)).rejects.toMatchObject({ code: 'ENOENT' });
  });

  it('defines, starts, suspends, resumes, hot-adds a vCPU, destroys and undefines a domain', async () => {
    await ok(
      `mutation { defineDomain(input: { host: "qemu", domain: { name: "mut-vm", memoryKiB: "65536", vcpus: 1, machine: "pc" } }) { name } }`,
    );
    await ok(
      `mutation { configureDomain(input: { host: "qemu", domain: { name: "mut-vm" }, config: { vcpus: 2 } }) { xml } }`,
    );
    await ok(
      `mutation { setDomainVcpus(input: { host: "qemu", domain: { name: "mut-vm" }, vcpus: 1, scope: CONFIG }) { name } }`,
    );
    expect(await ok('mutation { startDomain(input: { host: "qemu", domain: { name: "mut-vm" } }) { state } }')).toEqual(
      {
        startDomain: { state: 'RUNNING' },
      },
    );
    expect(
      await ok(
        'mutation { suspendDomain(input: { host: "qemu", domain: { name: "mut-vm" } }) { previousState state } }',
      ),
    ).toEqual({
      suspendDomain: { previousState: 'RUNNING', state: 'PAUSED' },
    });
    await ok('mutation { resumeDomain(input: { host: "qemu", domain: { name: "mut-vm" } }) { state } }');
    expect(
      await ok('mutation { setDomainVcpus(input: { host: "qemu", domain: { name: "mut-vm" }, vcpus: 2 }) { vcpus } }'),
    ).toEqual({
      setDomainVcpus: { vcpus: 2 },
    });
  });

  it('attaches and detaches a USB disk and a usb-net NIC, live and in the config', async () => {
    const pool = await c.storagePoolByName(DIR_POOL);
    const vol = await pool.createVolume('<volume><name>mut-usb.img</name><capacity unit="MiB">8</capacity></volume>');
    try {
      const disks = `disks { sourcePath bus }`;
      const attached = await ok<{
        attachDisk: { disks: unknown[] };
      }>(`mutation { attachDisk(input: { host: "qemu", domain: { name: "mut-vm" },
        disk: { kind: FILE, sourcePath: "${vol.path}", targetDevice: "sdb", bus: "usb" } }) { ${disks} } }`);
      expect(attached.attachDisk.disks).toContainEqual({ sourcePath: vol.path, bus: 'USB' });
      const detached = await ok<{
        detachDisk: { disks: unknown[] };
      }>(`mutation { detachDisk(input: { host: "qemu", domain: { name: "mut-vm" },
        sourcePath: "${vol.path}" }) { ${disks} } }`);
      expect(detached.detachDisk.disks).not.toContainEqual({ sourcePath: vol.path, bus: 'USB' });
      await ok(`mutation { attachDisk(input: { host: "qemu", domain: { name: "mut-vm" }, scope: CONFIG,
        disk: { kind: FILE, sourcePath: "${vol.path}", targetDevice: "sdb", bus: "usb" } }) { name } }`);
      expect(await (await c.domainByName('mut-vm')).xml({ inactive: true })).toContain(vol.path);
      await ok(
        `mutation { detachDisk(input: { host: "qemu", domain: { name: "mut-vm" }, scope: CONFIG, sourcePath: "${vol.path}" }) { name } }`,
      );
      expect(await (await c.domainByName('mut-vm')).xml({ inactive: true })).not.toContain(vol.path);

      const nic = await ok<{ attachNetwork: { interfaces: Array<{ mac: string; targetDevice: string }> } }>(`mutation {
        attachNetwork(input: { host: "qemu", domain: { name: "mut-vm" }, nic: { kind: NETWORK, source: "${NAT_NETWORK}",
          mac: "52:54:00:aa:00:07", model: "usb-net" } }) { interfaces { mac targetDevice network { name } } } }`);
      const added = nic.attachNetwork.interfaces.find((i) => i.mac === '52:54:00:aa:00:07');
      expect(added?.targetDevice).toMatch(/^vnet\d+$/);
      const gone = await ok<{ detachNetwork: { interfaces: Array<{ mac: string }> } }>(`mutation {
        detachNetwork(input: { host: "qemu", domain: { name: "mut-vm" }, targetDevice: "${added?.targetDevice}" }) { interfaces { mac } } }`);
      expect(gone.detachNetwork.interfaces.map((i) => i.mac)).not.toContain('52:54:00:aa:00:07');
    } finally {
      await vol.delete();
    }
  });

  it('attaches and detaches a device given as XML in both scopes at once, and changes max memory and autostart', async () => {
    const pool = await c.storagePoolByName(DIR_POOL);
    const vol = await pool.createVolume('<volume><name>mut-both.img</name><capacity unit="MiB">8</capacity></volume>');
    const disk = `<disk type="file" device="disk"><driver name="qemu" type="raw"/><source file="${vol.path}"/><target dev="sdc" bus="usb"/></disk>`;
    try {
      await ok(
        'mutation ($xml: String!) { attachDevice(input: { host: "qemu", domain: { name: "mut-vm" }, xml: $xml, scope: BOTH }) { name } }',
        {
          xml: disk,
        },
      );
      const d = await c.domainByName('mut-vm');
      expect(await d.xml()).toContain(vol.path);
      expect(await d.xml({ inactive: true })).toContain(vol.path);
      await ok(
        'mutation ($xml: String!) { detachDevice(input: { host: "qemu", domain: { name: "mut-vm" }, xml: $xml, scope: BOTH }) { name } }',
        {
          xml: disk,
        },
      );
      expect(await d.xml()).not.toContain(vol.path);
      expect(await d.xml({ inactive: true })).not.toContain(vol.path);
    } finally {
      await vol.delete();
    }
    const refused = await gw.query(
      'mutation { setDomainMaxMemory(input: { host: "qemu", domain: { name: "mut-vm" }, memoryKiB: "131072", scope: LIVE }) { name } }',
    );
    expect(refused.errors?.[0]?.extensions?.libvirt).toBeDefined();
    await ok(
      'mutation { setDomainMaxMemory(input: { host: "qemu", domain: { name: "mut-vm" }, memoryKiB: "131072", scope: CONFIG }) { name } }',
    );
    expect(await (await c.domainByName('mut-vm')).xml({ inactive: true })).toContain(
      "<memory unit='KiB'>131072</memory>",
    );
    expect(
      await ok(
        'mutation { setDomainAutostart(input: { host: "qemu", domain: { name: "mut-vm" }, autostart: true }) { autostart } }',
      ),
    ).toEqual({
      setDomainAutostart: { autostart: true },
    });
  });

  it('destroys and undefines the domain', async () => {
    await ok('mutation { destroyDomain(input: { host: "qemu", domain: { name: "mut-vm" } }) { state } }');
    expect(
      await ok('mutation { undefineDomain(input: { host: "qemu", domain: { name: "mut-vm" } }) { name } }'),
    ).toEqual({
      undefineDomain: { name: 'mut-vm' },
    });
  });

  it('answers host interface changes with UNSUPPORTED (udev backend)', async () => {
    const res = await gw.query(
      'mutation { defineEthernetInterface(input: { host: "qemu", interface: { name: "veth9", dhcp: true } }) { name } }',
    );
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNSUPPORTED', libvirt: { codeName: 'NO_SUPPORT' } });
  });
});

async function netnsPid(): Promise<number | undefined> {
  const pid = privateDaemon()
    ? Number((await run('cat', [`${privateDaemon()?.root}/libvirtd.pid`])).stdout.trim())
    : NaN;
  return Number.isFinite(pid) ? pid : undefined;
}

async function inNetns(pid: number | undefined, cmd: string[]): Promise<string> {
  if (pid === undefined) throw new Error('no daemon pid');
  const [bin, ...args] = cmd;
  return (await run('nsenter', [`--net=/proc/${pid}/ns/net`, bin as string, ...args])).stdout;
}
