import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { ConnectListAllNodeDeviceFlags } from '../../src/libvirt/index.ts';
import { NODE_DEVICE_CAPABILITIES } from '../../src/libvirt/xml/node-device-xml.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';

// Host.devices on a test-driver host whose node devices are a fixture: two PCI functions sharing
// IOMMU group 7, a bridge in group 0, a USB device and a NIC. attachDomainHostDevice's refusals
// happen before libvirt is asked, so they are checked here too (the test driver refuses every
// attach; the accepted case is in hostdev-libvirtd.test.ts).

const HOST_URI = `test://${fileURLToPath(new URL('../fixtures/host-devices.xml', import.meta.url))}`;

const viewer = createApiToken();
const configurer = createApiToken();
const root = createApiToken();
const nobody = createApiToken();

const auth = {
  tokens: [
    { name: 'viewer', sha256: viewer.sha256 },
    { name: 'configurer', sha256: configurer.sha256 },
    { name: 'root', sha256: root.sha256 },
    { name: 'nobody', sha256: nobody.sha256 },
  ],
  roles: { configurer: ['VM.Audit', 'VM.Config', 'Host.Audit'], nothing: ['VM.Audit'] },
  grants: [
    { identity: 'viewer', role: 'viewer' },
    { identity: 'configurer', role: 'configurer' },
    { identity: 'root', role: 'admin' },
    { identity: 'nobody', role: 'nothing' },
  ],
};

const as = (token: { secret: string }) => ({ authorization: `Bearer ${token.secret}` });

const ATTACH = `mutation ($device: String!) {
  attachDomainHostDevice(input: { domain: { name: "passthrough-vm" }, device: $device, scope: CONFIG }) { name }
}`;

describe('Host.devices', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ devices: HOST_URI }, undefined, { config: { auth } });
  });
  afterAll(() => gw?.close());

  it('lists every device with its parent and capability', async () => {
    const data = await gw.ok<{ host: { devices: Array<{ name: string; parent: string | null; capability: string }> } }>(
      '{ host { devices { name parent capability } } }',
      undefined,
      as(viewer),
    );
    const byName = new Map(data.host.devices.map((d) => [d.name, d]));
    expect([...byName.keys()].sort()).toEqual([
      'net_eth9_52_54_00_aa_bb_cc',
      'pci_0000_00_00_0',
      'pci_0000_01_00_0',
      'pci_0000_01_00_1',
      'usb_1_3',
    ]);
    expect(byName.get('pci_0000_01_00_0')).toMatchObject({ parent: 'pci_0000_00_00_0', capability: 'PCI' });
    expect(byName.get('usb_1_3')).toMatchObject({ capability: 'USB_DEVICE' });
    expect(byName.get('net_eth9_52_54_00_aa_bb_cc')).toMatchObject({ capability: 'NET' });
  });

  it('filters by capability through libvirt’s own flags, nested capabilities included', async () => {
    const data = await gw.ok<Record<string, Array<{ name: string }>>>(
      `{ host {
        pci: devices(capability: PCI) { name }
        usb: devices(capability: USB_DEVICE) { name }
        net: devices(capability: NET) { name }
        fc: devices(capability: FC_HOST) { name }
        mdev: devices(capability: MDEV) { name }
      } }`,
      undefined,
      as(viewer),
    );
    const names = (k: string) =>
      ((data.host as unknown as Record<string, Array<{ name: string }>>)[k] ?? []).map((d) => d.name).sort();
    expect(names('pci')).toEqual(['pci_0000_00_00_0', 'pci_0000_01_00_0', 'pci_0000_01_00_1']);
    expect(names('usb')).toEqual(['usb_1_3']);
    expect(names('net')).toEqual(['net_eth9_52_54_00_aa_bb_cc']);
    expect(names('fc')).toEqual([]);
    expect(names('mdev')).toEqual([]);
  });

  it('shows a PCI function’s address, vendor, product and IOMMU group with the devices in it', async () => {
    const data = await gw.ok<{ host: { hostDevice: Record<string, unknown> } }>(
      `{ host { hostDevice(name: "pci_0000_01_00_0") {
        capabilities
        pci {
          address { domain bus slot function text }
          vendor { id name } product { id name } class
          iommuGroup { number addresses { text } devices { name pci { address { text } } } }
        }
      } } }`,
      undefined,
      as(viewer),
    );
    expect(data.host.hostDevice).toEqual({
      capabilities: ['PCI'],
      pci: {
        address: { domain: 0, bus: 1, slot: 0, function: 0, text: '0000:01:00.0' },
        vendor: { id: '0x10de', name: 'NVIDIA Corporation' },
        product: { id: '0x1c82', name: 'GP107 [GeForce GTX 1050 Ti]' },
        class: '0x030000',
        iommuGroup: {
          number: 7,
          addresses: [{ text: '0000:01:00.0' }, { text: '0000:01:00.1' }],
          devices: [
            { name: 'pci_0000_01_00_0', pci: { address: { text: '0000:01:00.0' } } },
            { name: 'pci_0000_01_00_1', pci: { address: { text: '0000:01:00.1' } } },
          ],
        },
      },
    });
  });

  it('shows a USB device’s place and ids, and finds a device again by its global ID', async () => {
    const data = await gw.ok<{ host: { hostDevice: { id: string; usb: unknown; pci: unknown } } }>(
      '{ host { hostDevice(name: "usb_1_3") { id pci { class } usb { bus device vendor { id name } product { id name } } } } }',
      undefined,
      as(viewer),
    );
    expect(data.host.hostDevice).toMatchObject({
      pci: null,
      usb: {
        bus: 1,
        device: 3,
        vendor: { id: '0x1234', name: 'Example Corp' },
        product: { id: '0x5678', name: 'Token' },
      },
    });
    const again = await gw.ok<{ node: { name: string } }>(
      'query ($id: ID!) { node(id: $id) { ... on HostDevice { name } } }',
      { id: data.host.hostDevice.id },
      as(viewer),
    );
    expect(again.node).toEqual({ name: 'usb_1_3' });
  });

  it('answers NOT_FOUND for a device the host lacks', async () => {
    const res = await gw.query('{ host { hostDevice(name: "pci_0000_09_00_0") { name } } }', undefined, as(viewer));
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });
  });

  it('needs Host.Audit: without it, FORBIDDEN naming the privilege', async () => {
    const res = await gw.query('{ host { devices { name } } }', undefined, as(nobody));
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Host.Audit' });
  });

  it('selects a SCSI host by its nested FC_HOST capability (test:///default’s own devices)', async () => {
    const other = await startGateway({ default: 'test:///default' });
    try {
      const data = await other.ok<{
        host: { devices: Array<{ name: string; capability: string; capabilities: string[] }> };
      }>('{ host { devices(capability: FC_HOST) { name capability capabilities } } }');
      expect(data.host.devices.length).toBeGreaterThan(0);
      for (const d of data.host.devices) {
        expect(d.capability).toBe('SCSI_HOST');
        expect(d.capabilities).toContain('FC_HOST');
      }
    } finally {
      await other.close();
    }
  });

  it('knows every capability flag libvirt has (the enum is libvirt’s closed set)', () => {
    const flags = Object.keys(ConnectListAllNodeDeviceFlags).filter((f) => f.startsWith('CAP_'));
    expect(Object.values(NODE_DEVICE_CAPABILITIES).sort()).toEqual(flags.sort());
  });
});

describe('attachDomainHostDevice refusals', () => {
  it('is UNSAFE_INPUT naming xml.allow.hostdev while the config does not allow host devices', async () => {
    const gw = await startGateway({ devices: HOST_URI }, undefined, { config: { auth } });
    try {
      const res = await gw.query(ATTACH, { device: 'pci_0000_01_00_0' }, as(root));
      expect(res.errors?.[0]?.extensions).toMatchObject({
        code: 'UNSAFE_INPUT',
        field: 'device',
        allowedBy: 'xml.allow.hostdev',
      });
      const xml = await gw.ok<{ host: { domain: { xml: string } } }>(
        '{ host { domain(ref: { name: "passthrough-vm" }) { xml(inactive: true) } } }',
        undefined,
        as(root),
      );
      expect(xml.host.domain.xml).not.toContain('<hostdev');
    } finally {
      await gw.close();
    }
  });

  it('is FORBIDDEN naming Sys.Unsafe for a caller with VM.Config only, even when the config allows host devices', async () => {
    const gw = await startGateway({ devices: HOST_URI }, undefined, {
      config: { auth, xml: { allow: { hostdev: true } } },
    });
    try {
      const res = await gw.query(ATTACH, { device: 'pci_0000_01_00_0' }, as(configurer));
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Sys.Unsafe' });
    } finally {
      await gw.close();
    }
  });

  it('with both, refuses a device that is neither PCI nor USB and an unknown one, naming the field', async () => {
    const gw = await startGateway({ devices: HOST_URI }, undefined, {
      config: { auth, xml: { allow: { hostdev: true } } },
    });
    try {
      const net = await gw.query(ATTACH, { device: 'net_eth9_52_54_00_aa_bb_cc' }, as(root));
      expect(net.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'device' });
      const missing = await gw.query(ATTACH, { device: 'pci_0000_09_00_0' }, as(root));
      expect(missing.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'device' });
      // The test driver itself refuses device attach (libvirt 9.0): what reaches libvirt is the built <hostdev>.
      const usb = await gw.query(ATTACH, { device: 'usb_1_3' }, as(root));
      expect(usb.errors?.[0]?.extensions?.code).toBe('UNSUPPORTED');
    } finally {
      await gw.close();
    }
  });
});
