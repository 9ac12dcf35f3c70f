import { describe, expect, it } from 'vitest';
import { buildCopyDestinationXml, retargetDiskXml } from '../../src/libvirt/xml/disk-move-xml.ts';
import { parseDomainXml } from '../../src/libvirt/xml/domain-xml.ts';
import { schemaProblem } from '../../src/libvirt/xml/schema-validation.ts';
import { buildSnapshotXml, parseSnapshotXml } from '../../src/libvirt/xml/snapshot-xml.ts';
import { parseClientTree } from '../../src/libvirt/xml/xml-trees.ts';

const DOMAIN = `<domain type='kvm'>
  <name>web</name>
  <memory unit='KiB'>1048576</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <disk type='file' device='disk'>
      <driver name='qemu' type='qcow2' cache='none'/>
      <source file='/pool/web-vda.s2.qcow2' index='3'/>
      <backingStore type='file' index='2'>
        <format type='qcow2'/>
        <source file='/pool/web-vda.s1.qcow2'/>
        <backingStore type='block' index='1'>
          <format type='raw'/>
          <source dev='/dev/vg/web'/>
          <backingStore/>
        </backingStore>
      </backingStore>
      <target dev='vda' bus='virtio'/>
      <serial>keep-me</serial>
    </disk>
    <disk type='volume' device='disk'><driver name='qemu' type='raw'/><source pool='p' volume='data.img'/><target dev='vdb' bus='virtio'/></disk>
  </devices>
</domain>`;

const problem = async (kind: 'device' | 'snapshot' | 'domain', xml: string) =>
  schemaProblem(kind, xml, await parseClientTree(xml));

describe('disk move XML', () => {
  it('reads a disk’s backing chain top first, ending at an empty <backingStore/>', () => {
    const [vda, vdb] = parseDomainXml(DOMAIN).disks;
    expect(vda?.backingChain).toEqual([
      { type: 'file', format: 'qcow2', path: '/pool/web-vda.s1.qcow2' },
      { type: 'block', format: 'raw', path: '/dev/vg/web' },
    ]);
    expect(vdb?.backingChain).toEqual([]);
  });

  it('points a file disk at its new image: source and format replaced, the stored chain dropped, the rest kept', async () => {
    const xml = retargetDiskXml(DOMAIN, 'vda', { file: '/other/web.img' }, 'raw');
    const [vda, vdb] = parseDomainXml(xml).disks;
    expect(vda).toMatchObject({ type: 'file', driverType: 'raw', sourcePath: '/other/web.img', serial: 'keep-me' });
    expect(vda?.backingChain).toEqual([]);
    expect(xml).toContain('cache="none"');
    expect(xml).not.toContain('index=');
    expect(vdb?.source).toMatchObject({ pool: 'p', volume: 'data.img' });
    expect(await problem('domain', xml)).toBeUndefined();
  });

  it('points a volume disk at a volume of another pool', () => {
    const [, vdb] = parseDomainXml(retargetDiskXml(DOMAIN, 'vdb', { pool: 'q', volume: 'data.qcow2' }, 'qcow2')).disks;
    expect(vdb).toMatchObject({ type: 'volume', driverType: 'qcow2', source: { pool: 'q', volume: 'data.qcow2' } });
  });

  it('refuses a target the domain does not have', () => {
    expect(() => retargetDiskXml(DOMAIN, 'vdz', { file: '/x' }, 'raw')).toThrow(/no disk with target vdz/);
  });

  it('builds a blockcopy destination libvirt’s disk schema accepts, escaped', async () => {
    const xml = buildCopyDestinationXml('vda', "/pool/a'b&c.qcow2", 'qcow2');
    expect(xml).toContain('&amp;');
    expect(await problem('device', xml)).toBeUndefined();
  });

  it('builds a disk-only snapshot with its overlays that libvirt’s snapshot schema accepts', async () => {
    const xml = buildSnapshotXml({
      name: 's1',
      diskOnly: true,
      disks: [
        { name: 'vda', snapshot: 'external', file: '/pool/web-vda.s1.qcow2' },
        { name: 'sda', snapshot: 'no' },
      ],
    });
    expect(await problem('snapshot', xml)).toBeUndefined();
    expect(parseSnapshotXml(xml).disks).toEqual([
      { name: 'vda', snapshot: 'external', sourceFile: '/pool/web-vda.s1.qcow2' },
      { name: 'sda', snapshot: 'no', sourceFile: undefined },
    ]);
  });
});
