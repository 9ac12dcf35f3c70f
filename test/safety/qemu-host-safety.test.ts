import { access, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Volume } from '../../src/libvirt/index.ts';
import { parseCapabilitiesXml } from '../../src/libvirt/xml/capabilities-xml.ts';
import { parseStoragePoolXml } from '../../src/libvirt/xml/storage-pool-xml.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  bareDomainXml,
  DIR_POOL,
  NAT_NETWORK,
  openPrivateDaemon,
  privateDaemon,
  privateDaemonSkipReason,
} from '../support/private-daemon.ts';
import { domainWith, QEMU_NS, type UnsafeCase, unsafeDomainCases, VAGUE_FRAGMENTS } from './unsafe-documents.ts';

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the host-safety cases on a private libvirtd: ${skip}`);

const DEFINE = 'mutation ($xml: String!) { defineDomainFromXml(input: { host: "qemu", xml: $xml }) { name } }';
const DETACH =
  'mutation ($xml: String!, $scope: DeviceScope) { detachDevice(input: { host: "qemu", domain: { name: "safe-detach" }, xml: $xml, scope: $scope }) { name } }';

/** libvirtd's pid from its pid file, and whether that process still runs (PID 1 reaps late: read /proc). */
async function daemonPid(): Promise<{ pid: number; running: boolean }> {
  const root = privateDaemon()?.root as string;
  const pid = Number.parseInt(await readFile(join(root, 'libvirtd.pid'), 'utf8'), 10);
  const stat = await readFile(`/proc/${pid}/stat`, 'utf8').catch(() => '');
  const state = stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3);
  return { pid, running: stat !== '' && state !== 'Z' && state !== 'X' };
}

async function exists(path: string): Promise<boolean> {
  return access(path).then(
    () => true,
    () => false,
  );
}

describe.skipIf(skip !== undefined)('host safety on a private libvirtd with QEMU', () => {
  let gw: TestGateway;
  let c: Connection;
  let outside: string;
  let type: string;

  async function cleanup(name: string) {
    const d = await c.domainByName(name).catch(() => undefined);
    if (d && (await d.isActive())) await d.destroy();
    if (d && (await d.isPersistent())) await d.undefine();
  }

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    type = daemon.kvm ? 'kvm' : 'qemu';
    outside = await mkdtemp(join(tmpdir(), 'virtql-qemu-unsafe-'));
    gw = await startGateway({ qemu: daemon.uri });
    c = await openPrivateDaemon();
  });
  afterAll(async () => {
    for (const name of ['unsafe-vm', 'cmdline-vm', 'safe-detach']) await cleanup(name);
    await gw?.close();
    await c?.close();
    await rm(outside, { recursive: true, force: true });
  });

  it('refuses every unsafe case through defineDomainFromXml; libvirt defines nothing', async () => {
    const before = (await c.domains()).map((d) => d.name).sort();
    const poolDir = parseStoragePoolXml(await (await c.storagePoolByName(DIR_POOL)).xml()).targetPath as string;
    for (const unsafe of unsafeDomainCases(outside, { lan: { type: 'network', name: NAT_NETWORK }, poolDir })) {
      const res = await gw.query(DEFINE, { xml: domainWith(unsafe, 'unsafe-vm', type) });
      expect(res.errors?.[0]?.extensions, unsafe.name).toMatchObject({
        code: 'UNSAFE_INPUT',
        element: unsafe.element,
        allowedBy: unsafe.allowedBy,
      });
    }
    expect((await c.domains()).map((d) => d.name).sort()).toEqual(before);
    // An emulator the host's capabilities list, as `virsh dumpxml` writes it, is fine.
    const emulator = parseCapabilitiesXml(await c.capabilities()).guests.find((g) => g.emulator)?.emulator as string;
    const listed = domainWith({ name: 'emulator', element: '', allowedBy: '', allow: {} }, 'unsafe-vm', type);
    const res = await gw.query(DEFINE, {
      xml: listed.replace('<devices>', `<devices><emulator>${emulator}</emulator>`),
    });
    expect(res.errors).toBeUndefined();
    await cleanup('unsafe-vm');
  });

  it('refuses a qemu:commandline chardev that would create a file, which never appears; allowed, QEMU makes it', async () => {
    const made = join(outside, 'made-by-qemu');
    const cmdline: UnsafeCase = {
      name: 'chardev file',
      element: 'qemu:commandline',
      allowedBy: 'xml.allow.qemuNamespace',
      allow: {},
      domainPart: `<qemu:commandline xmlns:qemu="${QEMU_NS}"><qemu:arg value="-chardev"/><qemu:arg value="file,id=virtqlx,path=${made}"/></qemu:commandline>`,
    };
    const xml = domainWith(cmdline, 'cmdline-vm', type).replace(
      '<devices>',
      '<devices><controller type="usb" model="piix3-uhci"/>',
    );
    const refused = await gw.query(DEFINE, { xml });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'UNSAFE_INPUT', element: 'qemu:commandline' });
    const start = await gw.query(
      'mutation { startDomain(input: { host: "qemu", domain: { name: "cmdline-vm" } }) { state } }',
    );
    expect(start.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
    expect(await exists(made)).toBe(false);

    // The same document with the policy off: QEMU does create the file, so the check above can fail.
    const daemon = privateDaemon();
    const open = await startGateway({ qemu: daemon?.uri as string }, undefined, { config: { allowUnsafeXml: true } });
    try {
      expect((await open.query(DEFINE, { xml })).errors).toBeUndefined();
      const started = await open.query(
        'mutation { startDomain(input: { host: "qemu", domain: { name: "cmdline-vm" } }) { state } }',
      );
      expect(started.errors).toBeUndefined();
      expect(await exists(made)).toBe(true);
    } finally {
      await cleanup('cmdline-vm');
      await open.close();
    }
  });

  it('refuses detach fragments that identify nothing or two devices; libvirtd keeps running with the same pid', async () => {
    const pool = await c.storagePoolByName(DIR_POOL);
    const vols: Volume[] = [];
    for (const n of [1, 2]) {
      vols.push(
        await pool.createVolume(`<volume><name>safe-detach-${n}.img</name><capacity unit="MiB">4</capacity></volume>`),
      );
    }
    try {
      const disks = vols
        .map(
          (v, i) =>
            `<disk type="file" device="disk"><driver name="qemu" type="raw"/><source file="${v.path}"/><target dev="hd${'ab'[i]}" bus="ide"/></disk>`,
        )
        .join('');
      const nics = ['52:54:00:5a:fe:01', '52:54:00:5a:fe:02']
        .map(
          (mac) =>
            `<interface type="network"><mac address="${mac}"/><source network="${NAT_NETWORK}"/><model type="e1000"/></interface>`,
        )
        .join('');
      const domain = bareDomainXml('safe-detach', type === 'kvm').replace('<devices>', `<devices>${disks}${nics}`);
      expect((await gw.query(DEFINE, { xml: domain })).errors).toBeUndefined();
      const started = await gw.query(
        'mutation { startDomain(input: { host: "qemu", domain: { name: "safe-detach" } }) { state } }',
      );
      expect(started.errors).toBeUndefined();
      const before = await daemonPid();
      expect(before.running).toBe(true);

      const vague = [...VAGUE_FRAGMENTS, "<disk type='file'><driver name='qemu' type='raw'/><source/><target/></disk>"];
      for (const xml of vague) {
        const res = await gw.query(DETACH, { xml });
        expect(res.errors?.[0]?.extensions, xml).toMatchObject({ code: 'INVALID_INPUT', field: 'xml' });
      }
      const twice = await gw.query(DETACH, {
        xml: `<interface type='network'><source network='${NAT_NETWORK}'/></interface>`,
      });
      expect(twice.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'xml' });
      expect(twice.errors?.[0]?.message).toContain('matches 2 devices');

      expect(await daemonPid()).toEqual(before);
      const alive = await gw.query<{ host: { domains: Array<{ name: string }> } }>(
        '{ host(name: "qemu") { domains { name } } }',
      );
      expect(alive.data?.host.domains.map((d) => d.name)).toContain('safe-detach');

      // One disk, named by its target: the persistent definition loses exactly that disk.
      const one = await gw.query(DETACH, { xml: "<disk><target dev='hdb'/></disk>", scope: 'CONFIG' });
      expect(one.errors).toBeUndefined();
      const config = await (await c.domainByName('safe-detach')).xml({ inactive: true });
      expect(config).toContain(vols[0]?.path);
      expect(config).not.toContain(vols[1]?.path);
      expect(await daemonPid()).toEqual(before);
    } finally {
      await cleanup('safe-detach');
      for (const v of vols) await v.delete().catch(() => undefined);
    }
  });
});
