import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Connection, NodeDevice } from '../../src/libvirt/index.ts';
import { native } from '../../src/libvirt/native.ts';
import {
  buildHostdevXml,
  hostdevSourceOf,
  parseNodeDeviceXml,
  pciDeviceName,
} from '../../src/libvirt/xml/node-device-xml.ts';
import { SCHEMA_DIR, schemaProblem } from '../../src/libvirt/xml/schema-validation.ts';
import {
  buildSecretXml,
  parseSecretXml,
  SECRET_USAGE_TYPES,
  usageIdElement,
} from '../../src/libvirt/xml/secret-xml.ts';
import { parseClientTree } from '../../src/libvirt/xml/xml-trees.ts';

const HOST_URI = `test://${fileURLToPath(new URL('../fixtures/host-devices.xml', import.meta.url))}`;

describe('node device XML, as the test driver writes it', () => {
  let c: Connection;
  beforeAll(async () => {
    c = await Connection.open(HOST_URI);
  });
  afterAll(() => c?.close());

  it('parses every device, names a PCI function as libvirt does, and builds a <hostdev> libvirt’s schema accepts', async () => {
    const devices = await NodeDevice.list(c);
    const xmls = await NodeDevice.xmlMany(devices);
    expect(xmls.every((x) => typeof x === 'string')).toBe(true);
    const parsed = xmls.map((x) => parseNodeDeviceXml(x as string));
    expect(parsed.map((d) => d.name).sort()).toEqual(devices.map((d) => d.name).sort());
    for (const d of parsed) {
      if (d.pci) expect(pciDeviceName(d.pci.address)).toBe(d.name);
      const source = hostdevSourceOf(d);
      expect(source === undefined, d.name).toBe(d.capability !== 'pci' && d.capability !== 'usb_device');
      if (source) {
        const xml = buildHostdevXml(source);
        expect(await schemaProblem('device', xml, await parseClientTree(xml)), xml).toBeUndefined();
      }
    }
    const usb = parsed.find((d) => d.name === 'usb_1_3');
    expect(
      usb &&
        buildHostdevXml(hostdevSourceOf(usb) as never)
          .replace(/>\s+</g, '><')
          .trim(),
    ).toBe(
      '<hostdev mode="subsystem" type="usb" managed="yes"><source><vendor id="0x1234"/><product id="0x5678"/><address bus="1" device="3"/></source></hostdev>',
    );
  });

  it('reads capabilities nested in another (a SCSI host’s fc_host) and leaves unknown ones out', () => {
    const d = parseNodeDeviceXml(`<device><name>scsi_host9</name><parent>computer</parent>
      <capability type='scsi_host'><host>9</host><capability type='fc_host'><wwnn>1</wwnn></capability>
      <capability type='made_up'/></capability></device>`);
    expect(d).toMatchObject({ capability: 'scsi_host', capabilities: ['scsi_host', 'fc_host'] });
  });
});

describe('secret XML', () => {
  it('builds every usage as libvirt’s secret schema accepts it, and reads it back', async () => {
    for (const type of SECRET_USAGE_TYPES) {
      const id = type === 'volume' ? '/var/lib/libvirt/images/a <b> & c.img' : type === 'none' ? undefined : 'x & <y>';
      const spec = {
        usage: { type, id },
        description: 'a "quoted" & <escaped> text',
        ephemeral: type === 'tls',
        private: true,
      };
      const xml = buildSecretXml(spec);
      // libvirt picks the UUID on define; the schema wants one only in a complete document.
      const withUuid = xml.replace('>', '><uuid>6a0ea9c4-4a53-4a10-9d0e-6c8b2b8d3f21</uuid>');
      const [problem] = await native.xmlValidateRelaxNG(join(SCHEMA_DIR, 'secret.rng'), [withUuid]);
      expect(problem ?? undefined, withUuid).toBeUndefined();
      expect(parseSecretXml(withUuid)).toEqual({
        uuid: '6a0ea9c4-4a53-4a10-9d0e-6c8b2b8d3f21',
        description: spec.description,
        ephemeral: type === 'tls',
        private: true,
        usage: { type, ...(usageIdElement(type) ? { id } : {}) },
      });
    }
  });
});
