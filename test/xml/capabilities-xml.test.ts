import { describe, expect, it } from 'vitest';
import { Connection } from '../../src/libvirt/index.ts';
import { parseCapabilitiesXml } from '../../src/libvirt/xml/capabilities-xml.ts';
import { readXmlFixture } from './xml-fixtures.ts';

describe('capabilities', () => {
  it("parses test:///default's capabilities as the port reports the node", async () => {
    const c = await Connection.open('test:///default');
    try {
      const caps = parseCapabilitiesXml(await c.capabilities());
      expect(caps.host.arch).toBe((await c.nodeInfo()).model);
      expect(caps.host.arch).toBe('i686');
      expect(caps.guests).toEqual([
        {
          osType: 'hvm',
          arch: 'i686',
          wordSize: 32,
          emulator: '/usr/bin/test-hv',
          machines: [],
          domainTypes: ['test'],
        },
        {
          osType: 'xen',
          arch: 'i686',
          wordSize: 32,
          emulator: '/usr/bin/test-hv',
          machines: [],
          domainTypes: ['test'],
        },
      ]);
    } finally {
      await c.close();
    }
  });

  it("parses QEMU's capabilities", () => {
    const caps = parseCapabilitiesXml(readXmlFixture('qemu-capabilities.xml'));
    expect(caps.host).toEqual({
      uuid: 'e71b13c7-1375-45f5-8046-0362bb6e518d',
      arch: 'x86_64',
      model: 'kvm64',
      vendor: 'AMD',
      topology: { sockets: 1, dies: 1, cores: 2, threads: 1 },
    });
    expect(caps.guests.map((g) => [g.osType, g.arch, g.wordSize, g.emulator, g.domainTypes])).toEqual([
      ['hvm', 'i686', 32, '/usr/bin/qemu-system-x86_64', ['qemu', 'kvm']],
      ['hvm', 'x86_64', 64, '/usr/bin/qemu-system-x86_64', ['qemu', 'kvm']],
    ]);
    const x86 = caps.guests[1];
    expect(x86?.machines.find((m) => m.name === 'pc')).toEqual({
      name: 'pc',
      canonical: 'pc-i440fx-7.2',
      maxCpus: 255,
    });
    expect(x86?.machines.find((m) => m.name === 'q35')?.canonical).toBe('pc-q35-7.2');
    expect(new Set(x86?.machines.map((m) => m.name)).size).toBe(x86?.machines.length);
  });

  it("merges the machines libvirt lists under <arch> and again under <domain type='kvm'>", () => {
    const caps = parseCapabilitiesXml(readXmlFixture('libvirt-caps-qemu-kvm.xml'));
    expect(caps.host).toEqual({ arch: 'x86_64' });
    const [i686, x86, aarch64, xen] = caps.guests;
    expect(i686).toEqual({
      osType: 'hvm',
      arch: 'i686',
      wordSize: 32,
      emulator: '/usr/bin/qemu-system-i386',
      machines: [
        { name: 'pc-0.11', maxCpus: 255 },
        { name: 'pc', canonical: 'pc-0.11', maxCpus: 255 },
        { name: 'pc-0.10', maxCpus: 255 },
        { name: 'isapc', maxCpus: 1 },
      ],
      domainTypes: ['qemu', 'kvm'],
    });
    expect(x86?.machines.map((m) => m.name)).toEqual(['pc-0.11', 'pc', 'pc-0.10', 'isapc']);
    expect(aarch64).toMatchObject({ arch: 'aarch64', machines: [{ name: 'machvirt' }], domainTypes: ['qemu'] });
    expect(xen).toMatchObject({ osType: 'xen', arch: 'x86_64', domainTypes: ['kvm'] });

    const extra = parseCapabilitiesXml(`<capabilities><host><cpu><arch>x86_64</arch></cpu></host>
      <guest><os_type>hvm</os_type><arch name='x86_64'><machine>pc</machine><domain type='qemu'/>
      <domain type='kvm'><machine>pc</machine><machine maxCpus='8'>kvm-only</machine></domain></arch></guest>
      </capabilities>`);
    expect(extra.guests[0]?.machines).toEqual([{ name: 'pc' }, { name: 'kvm-only', maxCpus: 8 }]);
  });
});
