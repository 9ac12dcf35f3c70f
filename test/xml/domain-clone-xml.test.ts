import { describe, expect, it } from 'vitest';
import { cloneDomainXml } from '../../src/libvirt/xml/domain-clone-xml.ts';
import { parseDomainXml } from '../../src/libvirt/xml/domain-xml.ts';

const SOURCE = `<domain type='kvm'>
  <name>web</name>
  <uuid>4dea22b3-1d52-d8f3-2516-782e98ab3fa0</uuid>
  <description>front &amp; back</description>
  <memory unit='KiB'>1048576</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'><driver name='qemu' type='qcow2'/><source file='/pool/web.qcow2'/><target dev='vda' bus='virtio'/></disk>
    <disk type='volume' device='disk'><source pool='p' volume='data.img'/><target dev='vdb' bus='virtio'/></disk>
    <disk type='file' device='cdrom'><source file='/iso/install.iso'/><target dev='sda' bus='sata'/><readonly/></disk>
    <interface type='network'><mac address='52:54:00:12:34:56'/><source network='lan'/><target dev='vnet0'/><model type='virtio'/></interface>
    <graphics type='vnc' port='5901' autoport='no'><listen type='address' address='127.0.0.1'/></graphics>
  </devices>
</domain>`;

describe('cloneDomainXml', () => {
  it('renames, drops the UUID, MACs and host devices, and points copied disks at their copies', () => {
    const xml = cloneDomainXml(SOURCE, {
      name: 'web2',
      disks: new Map([
        ['vda', { file: '/pool/web2-vda.qcow2' }],
        ['vdb', { pool: 'p', volume: 'web2-vdb.img' }],
      ]),
    });
    const clone = parseDomainXml(xml);
    expect(clone.name).toBe('web2');
    expect(clone.uuid).toBeUndefined();
    expect(clone.description).toBe('front & back');
    expect(clone.interfaces).toEqual([
      expect.objectContaining({
        mac: undefined,
        targetDev: undefined,
        source: expect.objectContaining({ network: 'lan' }),
      }),
    ]);
    expect(
      clone.disks.map((d) => [d.target.dev, d.type, d.sourcePath ?? `${d.source.pool}/${d.source.volume}`]),
    ).toEqual([
      ['vda', 'file', '/pool/web2-vda.qcow2'],
      ['vdb', 'volume', 'p/web2-vdb.img'],
      ['sda', 'file', '/iso/install.iso'],
    ]);
    expect(clone.disks[0]?.driverType).toBe('qcow2');
    expect(clone.graphics).toEqual([
      { type: 'vnc', port: 5901, autoport: false, listen: '127.0.0.1', socket: undefined, listenType: 'address' },
    ]);
  });
});
