import { describe, expect, it } from 'vitest';
import {
  buildDiskXml,
  buildDomainXml,
  buildInterfaceDeviceXml,
  type DomainSpec,
  inferBus,
} from '../../src/libvirt/xml/domain-spec-xml.ts';
import {
  type DomainXml,
  deviceXmlOfDisk,
  deviceXmlOfInterface,
  findDisk,
  findInterface,
  parseDomainXml,
  updateDomainXml,
} from '../../src/libvirt/xml/domain-xml.ts';
import { buildXmlNodes, documentElement, parseRoot, parseXmlNodes, XmlError } from '../../src/libvirt/xml/xml-codec.ts';
import { useTestDriverHosts } from '../support/test-host.ts';
import { lineDiff, readXmlFixture } from './xml-fixtures.ts';

/** The spec that would rebuild a parsed domain (as far as the model covers it). */
function specOf(d: DomainXml, name: string): DomainSpec {
  return {
    type: d.type as DomainSpec['type'],
    name,
    title: d.title,
    description: d.description,
    memoryKiB: d.memoryKiB,
    currentMemoryKiB: d.currentMemoryKiB,
    vcpus: d.vcpus.current,
    maxVcpus: d.vcpus.max,
    arch: d.os.arch,
    machine: d.os.machine,
    osType: d.os.type,
    boot: d.os.boot as DomainSpec['boot'],
    disks: d.disks.map((disk) => ({
      kind: disk.type as 'file' | 'block',
      sourcePath: disk.sourcePath ?? '',
      targetDev: disk.target.dev,
      bus: disk.target.bus,
      driverType: disk.driverType,
      readonly: disk.readonly,
      shareable: disk.shareable,
      device: disk.device as 'disk',
    })),
    interfaces: d.interfaces.map((nic) => ({
      type: nic.type as 'network',
      source: nic.source.network ?? '',
      mac: nic.mac,
      model: nic.model,
      targetDev: nic.targetDev,
    })),
  };
}

/** The fields a definition controls, without the ones libvirt assigns (uuid, id, aliases, driver defaults). */
function definedFields(d: DomainXml) {
  return {
    type: d.type,
    title: d.title,
    description: d.description,
    memoryKiB: d.memoryKiB,
    currentMemoryKiB: d.currentMemoryKiB,
    vcpus: d.vcpus,
    os: { type: d.os.type, arch: d.os.arch, boot: d.os.boot },
    disks: d.disks.map((disk) => ({ ...disk, driverName: undefined, driverType: undefined, alias: undefined })),
    interfaces: d.interfaces.map((nic) => ({ ...nic, alias: undefined })),
  };
}

describe('libvirt test driver documents', () => {
  const hosts = useTestDriverHosts();

  it('parses test:///default\'s "test" domain as the port reports it', async () => {
    const domain = await hosts.def.domainByName('test');
    const parsed = parseDomainXml(await domain.xml());
    const info = await domain.info();
    expect(parsed).toMatchObject({
      type: 'test',
      id: domain.id,
      name: domain.name,
      uuid: domain.uuid,
      memoryKiB: info.maxMemoryKiB,
      currentMemoryKiB: info.memoryKiB,
      vcpus: { max: info.vcpus, current: info.vcpus },
      os: { type: 'hvm', arch: 'i686', boot: ['hd'] },
    });
    expect(parsed.disks).toEqual([
      expect.objectContaining({
        type: 'file',
        device: 'disk',
        source: expect.objectContaining({ file: '/guest/diskimage1' }),
        sourcePath: '/guest/diskimage1',
        target: { dev: 'vda', bus: 'virtio' },
        readonly: false,
        shareable: false,
      }),
    ]);
    expect(parsed.interfaces).toEqual([
      expect.objectContaining({
        type: 'network',
        mac: 'aa:bb:cc:dd:ee:ff',
        source: expect.objectContaining({ network: 'default' }),
        targetDev: 'testnet0',
      }),
    ]);
  });

  it('inserts a description where libvirt puts it when the domain has none', async () => {
    const xml = await (await hosts.def.domainByName('test')).xml({ inactive: true });
    expect(parseDomainXml(xml).description).toBeUndefined();
    const updated = updateDomainXml(xml, { description: 'now described' });
    const lines = updated.split('\n');
    const uuid = lines.findIndex((line) => line.startsWith('  <uuid>'));
    expect(lines[uuid + 1]).toBe('  <description>now described</description>');
    expect(lineDiff(buildXmlNodes(parseXmlNodes(xml)), updated)).toEqual({
      removed: [],
      added: ['  <description>now described</description>'],
    });
  });

  it('parses every domain of the fixture host as the port reports it', async () => {
    for (const domain of await hosts.host.domains()) {
      const parsed = parseDomainXml(await domain.xml());
      const info = await domain.info();
      expect(parsed.name).toBe(domain.name);
      expect(parsed.uuid).toBe(domain.uuid);
      expect(parsed.memoryKiB).toBe(info.maxMemoryKiB);
      expect(parsed.currentMemoryKiB ?? parsed.memoryKiB).toBe(info.memoryKiB);
      expect(parsed.vcpus.current).toBe(info.vcpus);
      expect(parsed.vcpus.max).toBe(await domain.vcpus(undefined, { maximum: true }));
    }
    const web = parseDomainXml(await (await hosts.host.domainByName('web')).xml());
    expect(web.description).toBe('front end');
    expect(web.disks.map((d) => d.sourcePath)).toEqual(['/default-pool/web.img']);
    expect(web.interfaces.map((n) => [n.mac, n.source.network])).toEqual([['52:54:00:00:00:01', 'lan']]);
  });

  it('builds a domain from the parsed spec that libvirt accepts and reads back the same', async () => {
    const original = parseDomainXml(await (await hosts.host.domainByName('web')).xml());
    const xml = buildDomainXml(specOf(original, 'web-copy'));
    const copy = await hosts.host.defineDomain(xml);
    const readBack = parseDomainXml(await copy.xml());
    expect(readBack.name).toBe('web-copy');
    expect(readBack.uuid).toBe(copy.uuid);
    expect(definedFields(readBack)).toEqual(definedFields(original));
    await copy.undefine();
  });

  it('builds a domain with every spec field, and libvirt reads it back as specified', async () => {
    const spec: DomainSpec = {
      type: 'test',
      name: 'built',
      uuid: '11111111-2222-3333-4444-555555555555',
      title: 'Built',
      description: 'from a spec',
      memoryKiB: 4n * 1024n * 1024n,
      currentMemoryKiB: 1024n * 1024n,
      vcpus: 2,
      maxVcpus: 4,
      arch: 'i686',
      osType: 'hvm',
      boot: ['cdrom', 'hd', 'network'],
      disks: [
        { kind: 'file', sourcePath: '/images/root.qcow2', targetDev: 'vda', driverType: 'qcow2' },
        { kind: 'block', sourcePath: '/dev/sdz', targetDev: 'sdb', shareable: true },
        { kind: 'file', sourcePath: '/images/install.iso', targetDev: 'hdc', device: 'cdrom', readonly: true },
      ],
      interfaces: [
        { type: 'network', source: 'default', mac: '52:54:00:12:34:56', model: 'virtio' },
        { type: 'bridge', source: 'br0', mac: '52:54:00:12:34:57', targetDev: 'tap-built' },
      ],
    };
    const domain = await hosts.def.defineDomain(buildDomainXml(spec));
    try {
      const parsed = parseDomainXml(await domain.xml({ inactive: true }));
      expect(parsed).toMatchObject({
        type: 'test',
        name: 'built',
        uuid: spec.uuid,
        title: 'Built',
        description: 'from a spec',
        memoryKiB: spec.memoryKiB,
        currentMemoryKiB: spec.currentMemoryKiB,
        vcpus: { max: 4, current: 2 },
        os: { type: 'hvm', arch: 'i686', boot: ['cdrom', 'hd', 'network'] },
      });
      expect(parsed.disks.map((d) => [d.type, d.device, d.sourcePath, d.target, d.readonly, d.shareable])).toEqual([
        ['file', 'disk', '/images/root.qcow2', { dev: 'vda', bus: 'virtio' }, false, false],
        ['block', 'disk', '/dev/sdz', { dev: 'sdb', bus: 'scsi' }, false, true],
        ['file', 'cdrom', '/images/install.iso', { dev: 'hdc', bus: 'ide' }, true, false],
      ]);
      expect(parsed.disks[0]?.driverType).toBe('qcow2');
      expect(parsed.interfaces.map((n) => [n.type, n.mac, n.source.network ?? n.source.bridge, n.model])).toEqual([
        ['network', '52:54:00:12:34:56', 'default', 'virtio'],
        ['bridge', '52:54:00:12:34:57', 'br0', undefined],
      ]);
      const info = await domain.info();
      expect(info.maxMemoryKiB).toBe(spec.memoryKiB);
      expect(await domain.vcpus('config', { maximum: true })).toBe(4);
    } finally {
      await domain.undefine();
    }
  });

  it('keeps names and descriptions with <>&\'" intact through libvirt', async () => {
    const nasty = `a<b>&c'd"e`;
    const domain = await hosts.def.defineDomain(
      buildDomainXml({
        type: 'test',
        name: `esc ${nasty}`,
        title: nasty,
        description: `${nasty} &amp; <![CDATA[x]]>`,
        memoryKiB: 65536n,
        vcpus: 1,
      }),
    );
    try {
      expect(domain.name).toBe(`esc ${nasty}`);
      const parsed = parseDomainXml(await domain.xml());
      expect(parsed.name).toBe(`esc ${nasty}`);
      expect(parsed.title).toBe(nasty);
      expect(parsed.description).toBe(`${nasty} &amp; <![CDATA[x]]>`);
      const edited = updateDomainXml(await domain.xml({ inactive: true }), { description: `${nasty} edited` });
      const redefined = await hosts.def.defineDomain(edited);
      expect(parseDomainXml(await redefined.xml()).description).toBe(`${nasty} edited`);
    } finally {
      await domain.undefine();
    }
  });

  it('edits a domain with updateDomainXml that libvirt then accepts', async () => {
    const web = await hosts.host.domainByName('web');
    const before = parseDomainXml(await web.xml({ inactive: true }));
    expect(before.currentMemoryKiB).toBe(524288n);
    const edited = updateDomainXml(await web.xml({ inactive: true }), {
      vcpus: 3,
      maxMemoryKiB: 262144n,
      description: 'edited',
    });
    const redefined = await hosts.host.defineDomain(edited);
    const after = parseDomainXml(await redefined.xml({ inactive: true }));
    expect(after).toEqual({
      ...before,
      id: after.id,
      vcpus: { max: 3, current: 3 },
      memoryKiB: 262144n,
      currentMemoryKiB: 262144n,
      description: 'edited',
    });
  });
});

describe('QEMU domain documents', () => {
  const live = readXmlFixture('qemu-domain-live.xml');
  const inactive = readXmlFixture('qemu-domain-inactive.xml');

  it('parses a running QEMU domain with disks of three kinds and two NICs', () => {
    const d = parseDomainXml(live);
    expect(d).toMatchObject({
      type: 'kvm',
      id: 1,
      name: 'rich',
      uuid: '8bd508c2-2adf-402b-90d4-bfa1e2b35570',
      title: 'Rich & "quoted" <guest>',
      description: 'A guest with disks, NICs & more',
      memoryKiB: 262144n,
      currentMemoryKiB: 262144n,
      hotplugMaxMemoryKiB: 2097152n,
      maxMemorySlots: 4,
      vcpus: { max: 2, current: 1 },
      os: { type: 'hvm', arch: 'x86_64', machine: 'pc-i440fx-7.2', boot: ['hd', 'cdrom'] },
      emulator: '/usr/bin/qemu-system-x86_64',
    });
    const pool = '/tmp/virtql-libvirtd-xmlfix-lron83/pool';
    expect(d.disks).toEqual([
      {
        type: 'file',
        device: 'disk',
        driverName: 'qemu',
        driverType: 'qcow2',
        source: { file: `${pool}/disk0.qcow2` },
        sourcePath: `${pool}/disk0.qcow2`,
        target: { dev: 'vda', bus: 'virtio' },
        readonly: false,
        shareable: false,
        serial: 'disk-0001',
        alias: 'virtio-disk0',
        // Each ends at libvirt's empty <backingStore/>: no chain.
        backingChain: [],
      },
      {
        type: 'volume',
        device: 'disk',
        driverName: 'qemu',
        driverType: 'raw',
        source: { pool: 'virtql-pool', volume: 'data.img' },
        target: { dev: 'vdb', bus: 'virtio' },
        readonly: false,
        shareable: true,
        alias: 'virtio-disk1',
        backingChain: [],
      },
      {
        type: 'file',
        device: 'cdrom',
        driverName: 'qemu',
        driverType: 'raw',
        source: { file: `${pool}/cd.iso` },
        sourcePath: `${pool}/cd.iso`,
        target: { dev: 'hdc', bus: 'ide' },
        readonly: true,
        shareable: false,
        alias: 'ide0-1-0',
        backingChain: [],
      },
    ]);
    expect(d.interfaces).toEqual([
      {
        type: 'network',
        mac: '52:54:00:aa:bb:01',
        source: { network: 'virtql-nat', bridge: 'virbr-q100' },
        targetDev: 'vnet0',
        model: 'virtio',
        alias: 'net0',
      },
      {
        type: 'network',
        mac: '52:54:00:aa:bb:02',
        source: { network: 'virtql-nat', bridge: 'virbr-q100' },
        targetDev: 'vnet1',
        model: 'e1000',
        alias: 'net1',
      },
    ]);
  });

  it('parses the inactive definition of the same domain', () => {
    const d = parseDomainXml(inactive);
    expect(d.id).toBeUndefined();
    expect(d.currentMemoryKiB).toBe(196608n);
    expect(d.disks.map((disk) => [disk.target.dev, disk.alias])).toEqual([
      ['vda', undefined],
      ['vdb', undefined],
      ['hdc', undefined],
    ]);
    expect(d.interfaces.map((nic) => nic.targetDev)).toEqual([undefined, undefined]);
  });

  it('reads memory in any unit, and a <vcpu> without current as all online', () => {
    const d = parseDomainXml(`<domain type='qemu'><name>u</name>
      <memory unit='GiB'>2</memory><currentMemory unit='MB'>1</currentMemory><vcpu>3</vcpu>
      <os><type>hvm</type></os><devices><disk type='block' device='lun'><source dev='/dev/sdx'/>
      <target dev='sda'/></disk></devices><unknown-future-element x='1'><y/></unknown-future-element></domain>`);
    expect(d.memoryKiB).toBe(2n * 1024n * 1024n);
    expect(d.currentMemoryKiB).toBe(977n); // 10^6 bytes, rounded up to KiB
    expect(d.vcpus).toEqual({ max: 3, current: 3 });
    expect(d.disks[0]).toMatchObject({ type: 'block', device: 'lun', sourcePath: '/dev/sdx', target: { dev: 'sda' } });
  });

  describe('updateDomainXml', () => {
    /** libvirt's document as the builder writes it unchanged: the baseline for line diffs. */
    const baseline = buildXmlNodes(parseXmlNodes(inactive));

    /** The ordered tree without the named top-level elements (and their indentation). */
    function treeWithout(xml: string, ...names: string[]) {
      const nodes = parseXmlNodes(xml);
      const root = documentElement(nodes);
      for (const name of names) for (const el of root.elements(name)) root.remove(el);
      return nodes;
    }

    it('rewrites only the quoting when nothing changes', () => {
      expect(updateDomainXml(inactive, {})).toBe(baseline);
      expect(parseXmlNodes(baseline)).toEqual(parseXmlNodes(inactive));
      expect(lineDiff(inactive.replaceAll("'", '"').trimEnd(), baseline)).toEqual({ removed: [], added: [] });
    });

    it('changes the vCPU count and nothing else', () => {
      const updated = updateDomainXml(inactive, { vcpus: 4 });
      expect(lineDiff(baseline, updated)).toEqual({
        removed: ['  <vcpu placement="static" current="1">2</vcpu>'],
        added: ['  <vcpu placement="static" current="1">4</vcpu>'],
      });
      expect(treeWithout(updated, 'vcpu')).toEqual(treeWithout(inactive, 'vcpu'));
      expect(parseDomainXml(updated).vcpus).toEqual({ max: 4, current: 1 });
    });

    it('lowers a current vCPU count above the new maximum', () => {
      const xml = inactive.replace("current='1'>2</vcpu>", "current='3'>4</vcpu>");
      const updated = updateDomainXml(xml, { vcpus: 2 });
      expect(lineDiff(buildXmlNodes(parseXmlNodes(xml)), updated)).toEqual({
        removed: ['  <vcpu placement="static" current="3">4</vcpu>'],
        added: ['  <vcpu placement="static">2</vcpu>'],
      });
      expect(parseDomainXml(updated).vcpus).toEqual({ max: 2, current: 2 });
    });

    it('raises the memory without touching the current memory below it', () => {
      const updated = updateDomainXml(inactive, { maxMemoryKiB: 524288n });
      expect(lineDiff(baseline, updated)).toEqual({
        removed: ['  <memory unit="KiB">262144</memory>'],
        added: ['  <memory unit="KiB">524288</memory>'],
      });
      expect(treeWithout(updated, 'memory')).toEqual(treeWithout(inactive, 'memory'));
    });

    it('lowers the current memory with the memory, in KiB whatever the unit was', () => {
      const xml = inactive
        .replace("<memory unit='KiB'>262144</memory>", "<memory unit='MiB'>256</memory>")
        .replace("<currentMemory unit='KiB'>196608</currentMemory>", "<currentMemory unit='M'>192</currentMemory>");
      const updated = updateDomainXml(xml, { maxMemoryKiB: 131072n });
      expect(lineDiff(buildXmlNodes(parseXmlNodes(xml)), updated)).toEqual({
        removed: ['  <memory unit="MiB">256</memory>', '  <currentMemory unit="M">192</currentMemory>'],
        added: ['  <memory unit="KiB">131072</memory>', '  <currentMemory unit="KiB">131072</currentMemory>'],
      });
      expect(treeWithout(updated, 'memory', 'currentMemory')).toEqual(treeWithout(xml, 'memory', 'currentMemory'));
      expect(parseDomainXml(updated)).toMatchObject({ memoryKiB: 131072n, currentMemoryKiB: 131072n });
    });

    it('replaces, removes and inserts the description, escaping it', () => {
      const replaced = updateDomainXml(inactive, { description: `new <"&'>` });
      expect(lineDiff(baseline, replaced)).toEqual({
        removed: ['  <description>A guest with disks, NICs &amp; more</description>'],
        added: ['  <description>new &lt;&quot;&amp;&apos;&gt;</description>'],
      });
      expect(parseDomainXml(replaced).description).toBe(`new <"&'>`);

      const removed = updateDomainXml(inactive, { description: null });
      expect(lineDiff(baseline, removed)).toEqual({
        removed: ['  <description>A guest with disks, NICs &amp; more</description>'],
        added: [],
      });
      expect(treeWithout(removed, 'description')).toEqual(treeWithout(inactive, 'description'));

      const inserted = updateDomainXml(removed, { description: 'back' });
      expect(lineDiff(removed, inserted)).toEqual({ removed: [], added: ['  <description>back</description>'] });
      const lines = inserted.split('\n');
      const title = lines.findIndex((line) => line.startsWith('  <title>'));
      expect(lines[title + 1]).toBe('  <description>back</description>');
    });

    it('applies several changes at once, leaving every other element as it was', () => {
      const updated = updateDomainXml(live, { vcpus: 8, maxMemoryKiB: 1048576n, description: 'all' });
      const changed = ['vcpu', 'memory', 'description'];
      expect(treeWithout(updated, ...changed)).toEqual(treeWithout(live, ...changed));
      expect(lineDiff(buildXmlNodes(parseXmlNodes(live)), updated).added).toEqual([
        '  <description>all</description>',
        '  <memory unit="KiB">1048576</memory>',
        '  <vcpu placement="static" current="1">8</vcpu>',
      ]);
      const { vcpus, memoryKiB, description, ...rest } = parseDomainXml(updated);
      const { vcpus: _v, memoryKiB: _m, description: _d, ...restBefore } = parseDomainXml(live);
      expect(rest).toEqual(restBefore);
      expect([vcpus, memoryKiB, description]).toEqual([{ max: 8, current: 1 }, 1048576n, 'all']);
    });

    it('refuses impossible values and documents that are not domains', () => {
      expect(() => updateDomainXml(inactive, { vcpus: 0 })).toThrow(RangeError);
      expect(() => updateDomainXml(inactive, { vcpus: 1.5 })).toThrow(RangeError);
      expect(() => updateDomainXml(inactive, { maxMemoryKiB: 0n })).toThrow(RangeError);
      expect(() => updateDomainXml('<network/>', { vcpus: 1 })).toThrow(XmlError);
    });
  });

  describe('devices', () => {
    it('finds a disk by source path or target and gives its own XML for detaching', () => {
      const path = '/tmp/virtql-libvirtd-xmlfix-lron83/pool/disk0.qcow2';
      expect(findDisk(live, path)?.target.dev).toBe('vda');
      expect(findDisk(parseDomainXml(live), { targetDev: 'vdb' })?.source.volume).toBe('data.img');
      expect(findDisk(live, '/nowhere')).toBeUndefined();
      const xml = deviceXmlOfDisk(live, path);
      expect(xml).toBeDefined();
      const disk = parseRoot(xml as string, 'disk');
      expect(disk.attrAt(['target'], 'dev')).toBe('vda');
      expect(disk.attrAt(['alias'], 'name')).toBe('virtio-disk0');
      expect(disk.attrAt(['address'], 'slot')).toBe('0x04');
      expect(deviceXmlOfDisk(live, { targetDev: 'hdc', sourcePath: '/other' })).toBeUndefined();
      expect(parseRoot(deviceXmlOfDisk(live, { targetDev: 'hdc' }) as string, 'disk').child('readonly')).toBeDefined();
      expect(() => deviceXmlOfDisk(live, {})).toThrow(RangeError);
    });

    it('finds a NIC by MAC (any case) or host device and gives its own XML', () => {
      expect(findInterface(live, { mac: '52:54:00:AA:BB:02' })?.model).toBe('e1000');
      expect(findInterface(parseDomainXml(live), { targetDev: 'vnet0' })?.mac).toBe('52:54:00:aa:bb:01');
      expect(findInterface(live, { targetDev: 'vnet0', mac: '52:54:00:aa:bb:02' })).toBeUndefined();
      const xml = deviceXmlOfInterface(live, { mac: '52:54:00:AA:BB:02' }) as string;
      const nic = parseRoot(xml, 'interface');
      expect(nic.attrAt(['mac'], 'address')).toBe('52:54:00:aa:bb:02');
      expect(nic.attrAt(['source'], 'portid')).toBe('851a4bdb-a7a4-439b-b18f-d4a532c5424e');
      expect(deviceXmlOfInterface(inactive, { targetDev: 'vnet0' })).toBeUndefined();
      expect(() => findInterface(live, {})).toThrow(RangeError);
    });

    it('builds disks and NICs for attaching', () => {
      expect(buildDiskXml({ kind: 'file', sourcePath: '/var/lib/a b&c.img', targetDev: 'vdb' })).toBe(
        [
          '<disk type="file" device="disk">',
          '  <driver name="qemu" type="raw"/>',
          '  <source file="/var/lib/a b&amp;c.img"/>',
          '  <target dev="vdb" bus="virtio"/>',
          '</disk>',
          '',
        ].join('\n'),
      );
      const block = parseRoot(
        buildDiskXml({ kind: 'block', sourcePath: '/dev/vg/lv', targetDev: 'sdc', bus: 'usb', driverType: 'qcow2' }),
        'disk',
      );
      expect(block.attr('type')).toBe('block');
      expect(block.attrAt(['source'], 'dev')).toBe('/dev/vg/lv');
      expect(block.attrAt(['source'], 'file')).toBeUndefined();
      expect(block.attrAt(['target'], 'bus')).toBe('usb');
      expect(block.attrAt(['driver'], 'type')).toBe('qcow2');
      expect(
        parseRoot(buildDiskXml({ kind: 'file', sourcePath: '/x', targetDev: 'zz0' }), 'disk').attrAt(['target'], 'bus'),
      ).toBeUndefined();

      expect(
        buildInterfaceDeviceXml({ type: 'bridge', source: 'br0', mac: '52:54:00:00:00:09', model: 'virtio' }),
      ).toBe(
        [
          '<interface type="bridge">',
          '  <mac address="52:54:00:00:00:09"/>',
          '  <source bridge="br0"/>',
          '  <model type="virtio"/>',
          '</interface>',
          '',
        ].join('\n'),
      );
      const nic = parseRoot(
        buildInterfaceDeviceXml({ type: 'network', source: 'default', targetDev: 'vnet7' }),
        'interface',
      );
      expect(nic.attrAt(['source'], 'network')).toBe('default');
      expect(nic.attrAt(['target'], 'dev')).toBe('vnet7');
    });

    it('infers the bus from the target name', () => {
      expect(['vda', 'sdb', 'hdc', 'xvdd', 'fda', 'nvme0n1'].map(inferBus)).toEqual([
        'virtio',
        'scsi',
        'ide',
        'xen',
        'fdc',
        undefined,
      ]);
    });
  });

  it('adds ACPI for x86 kvm and qemu domains unless told otherwise', () => {
    const base = { name: 'f', memoryKiB: 1024n, vcpus: 1 } as const;
    const features = (spec: DomainSpec) =>
      parseRoot(buildDomainXml(spec), 'domain')
        .child('features')
        ?.elements()
        .map((e) => e.name);
    expect(features({ ...base, type: 'kvm' })).toEqual(['acpi', 'apic']);
    expect(features({ ...base, type: 'qemu', arch: 'aarch64' })).toBeUndefined();
    expect(features({ ...base, type: 'test' })).toBeUndefined();
    expect(features({ ...base, type: 'qemu', features: ['pae'] })).toEqual(['pae']);
    expect(() => buildDomainXml({ ...base, type: 'kvm', vcpus: 2, maxVcpus: 1 })).toThrow(RangeError);
    expect(() => buildDomainXml({ ...base, type: 'kvm', currentMemoryKiB: 2048n })).toThrow(RangeError);
  });
});
