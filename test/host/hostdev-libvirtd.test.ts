import { readdir } from 'node:fs/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import type { Connection } from '../../src/libvirt/index.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { bareDomainXml, openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';

// Host.devices and attachDomainHostDevice on the private libvirtd, which sees this machine's real
// devices. A device is only ever written into the persistent config of a domain that is never
// started: no device of this machine is taken from its driver.

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the host device cases on the private libvirtd: ${skip}`);

const root = createApiToken();
const DOMAIN = 'virtql-hostdev-vm';

interface Device {
  name: string;
  capability: string | null;
  pci: {
    address: { domain: number; bus: number; slot: number; function: number; text: string };
    iommuGroup: { number: number; addresses: Array<{ text: string }>; devices: Array<{ name: string }> } | null;
  } | null;
}

describe.skipIf(skip !== undefined)('host devices on a private libvirtd', () => {
  let gw: TestGateway;
  let c: Connection;
  let pci: Device[] = [];
  const as = { authorization: `Bearer ${root.secret}` };

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    c = await openPrivateDaemon();
    await c.defineDomain(bareDomainXml(DOMAIN, daemon.kvm));
    gw = await startGateway({ qemu: daemon.uri }, undefined, {
      config: {
        auth: { tokens: [{ name: 'root', sha256: root.sha256 }], grants: [{ identity: 'root', role: 'admin' }] },
        xml: { allow: { hostdev: true } },
      },
    });
    const data = await gw.ok<{ host: { devices: Device[] } }>(
      `{ host { devices(capability: PCI) { name capability pci {
        address { domain bus slot function text }
        iommuGroup { number addresses { text } devices { name } }
      } } } }`,
      undefined,
      as,
    );
    pci = data.host.devices;
  });
  afterAll(async () => {
    await (await c?.domainByName(DOMAIN).catch(() => undefined))?.undefine();
    await gw?.close();
    await c?.close();
  });

  it('lists this machine’s PCI functions, each with its address', async (ctx) => {
    const sysfs = await readdir('/sys/bus/pci/devices').catch(() => []);
    ctx.skip(sysfs.length === 0, 'this machine has no PCI devices in /sys/bus/pci/devices');
    ctx.skip(pci.length === 0, 'the private libvirtd’s node device driver lists no PCI device although sysfs has some');
    for (const d of pci) {
      expect(d.capability).toBe('PCI');
      expect(sysfs).toContain(d.pci?.address.text);
    }
  });

  it('shows the IOMMU group where the host has one', async (ctx) => {
    const groups = await readdir('/sys/kernel/iommu_groups').catch(() => []);
    ctx.skip(
      groups.length === 0,
      'this machine has no IOMMU groups (/sys/kernel/iommu_groups is empty: no IOMMU, or it is off)',
    );
    ctx.skip(pci.length === 0, 'the private libvirtd lists no PCI device');
    const grouped = pci.filter((d) => d.pci?.iommuGroup);
    expect(grouped.length).toBeGreaterThan(0);
    for (const d of grouped) {
      const group = d.pci?.iommuGroup;
      const members = await readdir(`/sys/kernel/iommu_groups/${group?.number}/devices`);
      expect(group?.addresses.map((a) => a.text).sort()).toEqual(members.sort());
      expect(group?.devices.map((m) => m.name)).toContain(d.name);
    }
  });

  it('writes a PCI function into an inactive domain’s config as a managed <hostdev>', async (ctx) => {
    const device = pci[0];
    if (!device?.pci) return ctx.skip('the private libvirtd lists no PCI device to write into a config');
    const res = await gw.ok<{ attachDomainHostDevice: { xml: string } }>(
      `mutation ($device: String!) {
        attachDomainHostDevice(input: { domain: { name: "${DOMAIN}" }, device: $device, scope: CONFIG }) { xml(inactive: true) }
      }`,
      { device: device.name },
      as,
    );
    const { address } = device.pci;
    const hex = (n: number, w: number) => `0x${n.toString(16).padStart(w, '0')}`;
    expect(res.attachDomainHostDevice.xml).toMatch(/<hostdev mode=.subsystem. type=.pci. managed=.yes.>/);
    expect(res.attachDomainHostDevice.xml).toContain(
      `<address domain='${hex(address.domain, 4)}' bus='${hex(address.bus, 2)}' slot='${hex(address.slot, 2)}' function='${hex(address.function, 1)}'/>`,
    );
    const domain = await c.domainByName(DOMAIN);
    expect(await domain.isActive()).toBe(false);
  });
});
