import { mkdir, mkdtemp, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/libvirt/index.ts';
import { parseCapabilitiesXml } from '../../src/libvirt/xml/capabilities-xml.ts';
import { SCHEMA_PATH_PLACES } from '../../src/libvirt/xml/schema-places.ts';
import { parseStoragePoolXml } from '../../src/libvirt/xml/storage-pool-xml.ts';
import { documentElement, parseXmlNodes, tagOf, type XmlNode } from '../../src/libvirt/xml/xml-codec.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  DIR_POOL,
  NAT_NETWORK,
  openPrivateDaemon,
  privateDaemon,
  privateDaemonSkipReason,
} from '../support/private-daemon.ts';

// The differential test of issue 18: a generated corpus of client documents goes through the
// gateway's policy; every document it accepts is defined on a private libvirtd, and the definition
// libvirt stored (dumpxml --inactive) is walked for every value that is a host path. None may lie
// outside the storage roots. The oracle is libvirt's own parse, not the policy's reading.

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the differential host-safety test: ${skip}`);

const DEFINE = 'mutation ($xml: String!) { defineDomainFromXml(input: { host: "qemu", xml: $xml }) { name } }';
const CREATE_POOL =
  'mutation ($xml: String!) { createStoragePool(input: { host: "qemu", xml: $xml, autostart: false }) { name } }';
const CREATE_VOLUME =
  'mutation ($xml: String!) { createVolume(input: { host: "qemu", pool: "virtql-pool", xml: $xml }) { name } }';

/** Where each generated snippet puts its path `P` (and what place of the schema table that is). */
interface Template {
  place: string;
  /** The schema types this place as plain text: only the policy's absolute-path rule finds it. */
  untyped?: boolean;
  where: 'devices' | 'os' | 'domain';
  xml: (p: string) => string;
}

const TEMPLATES: Template[] = [
  {
    place: 'disk/source@file',
    where: 'devices',
    xml: (p) => `<disk type="file" device="disk"><source file="${p}"/><target dev="vdb" bus="virtio"/></disk>`,
  },
  {
    place: 'disk/source@dev',
    where: 'devices',
    xml: (p) => `<disk type="block" device="disk"><source dev="${p}"/><target dev="vdc" bus="virtio"/></disk>`,
  },
  {
    place: 'disk/source@dir',
    where: 'devices',
    xml: (p) => `<disk type="dir" device="disk"><source dir="${p}"/><target dev="vdd" bus="virtio"/></disk>`,
  },
  {
    place: 'backingStore/source@file',
    where: 'devices',
    xml: (p) =>
      `<disk type="file" device="disk"><driver name="qemu" type="qcow2"/><source file="INSIDE/top.qcow2"/><backingStore type="file"><format type="raw"/><source file="${p}"/></backingStore><target dev="vde" bus="virtio"/></disk>`,
  },
  {
    place: 'disk/source@file (cdrom)',
    where: 'devices',
    xml: (p) =>
      `<disk type="file" device="cdrom"><source file="${p}"/><target dev="sda" bus="sata"/><readonly/></disk>`,
  },
  {
    place: 'reservations/source@path',
    where: 'devices',
    xml: (p) =>
      `<disk type="block" device="lun"><source dev="INSIDE/lun"><reservations managed="no"><source type="unix" path="${p}" mode="client"/></reservations></source><target dev="sdb" bus="scsi"/></disk>`,
  },
  { place: 'serial/log@file', where: 'devices', xml: (p) => `<serial type="pty"><log file="${p}"/></serial>` },
  { place: 'console/log@file', where: 'devices', xml: (p) => `<console type="pty"><log file="${p}"/></console>` },
  { place: 'devices/graphics@socket', where: 'devices', xml: (p) => `<graphics type="vnc" socket="${p}"/>` },
  {
    place: 'graphics/listen@socket',
    where: 'devices',
    xml: (p) => `<graphics type="vnc"><listen type="socket" socket="${p}"/></graphics>`,
  },
  {
    place: 'graphics/gl@rendernode',
    where: 'devices',
    xml: (p) => `<graphics type="spice"><gl enable="yes" rendernode="${p}"/></graphics>`,
  },
  {
    place: 'model/acceleration@rendernode',
    where: 'devices',
    xml: (p) => `<video><model type="virtio"><acceleration accel3d="yes" rendernode="${p}"/></model></video>`,
  },
  { place: 'devices/audio@path', where: 'devices', xml: (p) => `<audio id="1" type="file" path="${p}"/>` },
  {
    place: 'rng/backend@#text',
    where: 'devices',
    xml: (p) => `<rng model="virtio"><backend model="random">${p}</backend></rng>`,
  },
  {
    place: 'interface/rom@file',
    where: 'devices',
    xml: (p) => `<interface type="network"><source network="${NAT_NETWORK}"/><rom file="${p}"/></interface>`,
  },
  { place: 'devices/emulator@#text', where: 'devices', xml: (p) => `<emulator>${p}</emulator>` },
  { place: 'os/kernel@#text', where: 'os', xml: (p) => `<kernel>${p}</kernel>` },
  { place: 'os/initrd@#text', where: 'os', xml: (p) => `<kernel>INSIDE/vmlinuz</kernel><initrd>${p}</initrd>` },
  { place: 'os/dtb@#text', where: 'os', xml: (p) => `<dtb>${p}</dtb>` },
  { place: 'os/loader@#text', where: 'os', xml: (p) => `<loader readonly="yes" type="rom">${p}</loader>` },
  {
    place: 'os/nvram@#text',
    where: 'os',
    xml: (p) => `<loader readonly="yes" type="pflash">INSIDE/code.fd</loader><nvram>${p}</nvram>`,
  },
  {
    place: 'os/nvram@template',
    where: 'os',
    xml: (p) => `<loader readonly="yes" type="pflash">INSIDE/code.fd</loader><nvram template="${p}"/>`,
  },
  { place: 'acpi/table@#text', where: 'os', xml: (p) => `<acpi><table type="slic">${p}</table></acpi>` },
  {
    place: 'sysinfo/entry@file',
    untyped: true,
    where: 'domain',
    xml: (p) => `<sysinfo type="fwcfg"><entry name="opt/x" file="${p}"/></sysinfo>`,
  },
  {
    place: 'resource/partition@#text',
    where: 'domain',
    xml: (p) => `<resource><partition>${p}</partition></resource>`,
  },
];

/** Documents that smuggle a path past a reader that looks at the first of a repeated element, or at one namespace. */
const SMUGGLERS: Array<{ name: string; xml: (p: string) => string; where: 'domain' | 'devices' }> = [
  {
    name: 'a second <devices>',
    where: 'domain',
    xml: (p) =>
      `<devices><disk type="file" device="disk"><source file="${p}"/><target dev="vdf" bus="virtio"/></disk></devices>`,
  },
  { name: 'a second <os>', where: 'domain', xml: (p) => `<os><type>hvm</type><kernel>${p}</kernel></os>` },
  {
    name: 'a namespaced attribute beside the path',
    where: 'devices',
    xml: (p) =>
      `<disk type="file" device="disk" xmlns:x="urn:x"><source x:file="/etc/hostname" file="${p}"/><target dev="vdg" bus="virtio"/></disk>`,
  },
  {
    name: 'a default namespace on the device',
    where: 'devices',
    xml: (p) =>
      `<disk xmlns="http://libvirt.org/schemas/domain/qemu/1.0" type="file" device="disk"><source file="${p}"/><target dev="vdh" bus="virtio"/></disk>`,
  },
  {
    name: 'a path hidden in an entity-free CDATA text',
    where: 'devices',
    xml: (p) => `<emulator><![CDATA[${p}]]></emulator>`,
  },
];

describe.skipIf(skip !== undefined)('the host-safety policy against libvirt’s own parse (private libvirtd)', () => {
  let gw: TestGateway;
  let c: Connection;
  let work: string;
  let allowed: string;
  let poolDir: string;
  let emulators: string[];
  let type: string;
  let roots: string[];
  let spellings: Array<{ name: string; path: string }>;

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    type = daemon.kvm ? 'kvm' : 'qemu';
    work = await realpath(await mkdtemp(join(tmpdir(), 'virtql-differential-')));
    allowed = join(work, 'allowed');
    await mkdir(join(allowed, 'sub'), { recursive: true });
    await mkdir(join(work, 'outside'));
    await writeFile(join(work, 'outside', 'secret'), 'secret');
    // A symlink inside the allowed root that leads out of it.
    await symlink(join(work, 'outside'), join(allowed, 'escape'));
    c = await openPrivateDaemon();
    poolDir = await realpath(
      parseStoragePoolXml(await (await c.storagePoolByName(DIR_POOL)).xml()).targetPath as string,
    );
    emulators = parseCapabilitiesXml(await c.capabilities()).guests.flatMap((g) => (g.emulator ? [g.emulator] : []));
    roots = [allowed, poolDir];
    gw = await startGateway({ qemu: daemon.uri }, undefined, { config: { storage: { allowedPaths: [allowed] } } });
    spellings = [
      { name: 'inside the allowed root', path: `${allowed}/disk.img` },
      { name: 'inside the pool', path: `${poolDir}/new.img` },
      { name: 'outside', path: `${work}/outside/secret` },
      { name: 'the host’s own files', path: '/etc/shadow' },
      { name: '.. out of the root', path: `${allowed}/../outside/secret` },
      { name: './ inside the root', path: `${allowed}/./sub/./disk.img` },
      { name: '// inside the root', path: `${allowed}//sub//disk.img` },
      { name: '// before a host path', path: '//etc/shadow' },
      { name: 'a symlink out of the root', path: `${allowed}/escape/secret` },
      { name: 'a trailing slash', path: `${allowed}/sub/` },
      { name: 'a device node', path: '/dev/sda' },
      { name: 'a root’s prefix sibling', path: `${allowed}-evil/x.img` },
    ];
  });

  afterAll(async () => {
    await gw?.close();
    await c?.close();
    if (work) await rm(work, { recursive: true, force: true });
  });

  function domainXml(name: string, part: { where: 'devices' | 'os' | 'domain'; xml: string }): string {
    const inside = (s: string) => s.replaceAll('INSIDE', allowed);
    const os = part.where === 'os' ? inside(part.xml) : '';
    const devices = part.where === 'devices' ? inside(part.xml) : '';
    const domain = part.where === 'domain' ? inside(part.xml) : '';
    return `<domain type="${type}"><name>${name}</name><memory unit="MiB">64</memory><vcpu>1</vcpu><os><type arch="x86_64" machine="pc">hvm</type>${os}</os>${domain}<devices>${devices}</devices></domain>`;
  }

  /** Every value of a stored definition that is a host path (starts with a slash), with where it stands. */
  function pathsIn(xml: string): Array<{ where: string; value: string }> {
    const out: Array<{ where: string; value: string }> = [];
    const walk = (node: XmlNode, where: string) => {
      const tag = tagOf(node);
      if (tag === undefined) return;
      const here = `${where}/${tag}`;
      if (tag === 'metadata' || tag === 'description' || tag === 'title' || tag === 'cmdline') return;
      for (const [key, value] of Object.entries((node[':@'] ?? {}) as Record<string, string>)) {
        if (value.startsWith('/')) out.push({ where: `${here}@${key.slice(2)}`, value });
      }
      for (const child of node[tag] as XmlNode[]) {
        if (typeof child['#text'] === 'string' && child['#text'].trim().startsWith('/')) {
          out.push({ where: here, value: child['#text'].trim() });
        } else walk(child, here);
      }
    };
    walk(documentElement(parseXmlNodes(xml)).node, '');
    return out;
  }

  /** libvirt's own paths it writes into a definition, and the host resources every guest is given. */
  function libvirtsOwn(value: string): boolean {
    return (
      emulators.includes(value) ||
      ['/dev/random', '/dev/urandom', '/dev/hwrng', '/machine'].includes(value) ||
      value.startsWith('/var/lib/libvirt/qemu/') ||
      value.startsWith('/run/libvirt/qemu/')
    );
  }

  /** Whether libvirt's stored path lies inside a root, read as this host's filesystem reads it. */
  async function insideRoots(value: string): Promise<boolean> {
    let existing = posix.normalize(value);
    const rest: string[] = [];
    let real = existing;
    for (;;) {
      try {
        real = posix.join(await realpath(existing), ...rest.reverse());
        break;
      } catch {
        const parent = posix.dirname(existing);
        if (parent === existing) break;
        rest.push(posix.basename(existing));
        existing = parent;
      }
    }
    if (real.length > 1 && real.endsWith('/')) real = real.slice(0, -1);
    return roots.some((r) => real === r || real.startsWith(`${r}/`));
  }

  async function undefine(name: string) {
    const d = await c.domainByName(name).catch(() => undefined);
    if (d && (await d.isActive())) await d.destroy();
    if (d) await d.undefine();
  }

  it('every domain document the policy accepts is stored by libvirt with no path outside the roots', async () => {
    let accepted = 0;
    let refused = 0;
    const escapes: string[] = [];
    let n = 0;
    for (const t of TEMPLATES) {
      for (const s of spellings) {
        const name = `diff-${n++}`;
        const xml = domainXml(name, { where: t.where, xml: t.xml(s.path) });
        const res = await gw.query(DEFINE, { xml });
        if (res.errors) {
          refused += 1;
          // Refused means nothing defined, and a typed reason.
          expect(['UNSAFE_INPUT', 'INVALID_INPUT', 'NOT_FOUND', 'FORBIDDEN', 'LIBVIRT_ERROR', 'UNSUPPORTED']).toContain(
            res.errors[0]?.extensions?.code,
          );
          expect(await c.domainByName(name).catch(() => undefined), `${t.place} ${s.name}`).toBeUndefined();
          continue;
        }
        accepted += 1;
        const stored = await (await c.domainByName(name)).xml({ inactive: true });
        for (const p of pathsIn(stored)) {
          if (libvirtsOwn(p.value)) continue;
          if (!(await insideRoots(p.value)))
            escapes.push(`${t.place} with ${s.name}: libvirt stored ${p.value} at ${p.where}`);
        }
        await undefine(name);
      }
    }
    expect(escapes).toEqual([]);
    // The corpus must exercise both sides, or the comparison proves nothing.
    expect(accepted).toBeGreaterThan(20);
    expect(refused).toBeGreaterThan(100);
    console.info(`differential: ${accepted} accepted and stored, ${refused} refused, 0 stored paths outside the roots`);
  });

  it('repeated elements and namespaces never carry a path past the policy', async () => {
    let n = 0;
    for (const sm of SMUGGLERS) {
      const name = `smuggle-${n++}`;
      const base = domainXml(name, { where: 'devices', xml: '' });
      const xml =
        sm.where === 'domain'
          ? base.replace('</domain>', `${sm.xml('/etc/shadow')}</domain>`)
          : base.replace('<devices></devices>', `<devices>${sm.xml('/etc/shadow')}</devices>`);
      const res = await gw.query(DEFINE, { xml });
      expect(res.errors, sm.name).toBeDefined();
      expect(['INVALID_INPUT', 'UNSAFE_INPUT']).toContain(res.errors?.[0]?.extensions?.code);
      expect(await c.domainByName(name).catch(() => undefined), sm.name).toBeUndefined();
    }
  });

  it('pools and volumes: a directory outside the roots or around a pool, a backing store outside, are refused', async () => {
    const pool = (name: string, path: string, extra = '') =>
      `<pool type="dir"><name>${name}</name><target><path>${path}</path></target>${extra}</pool>`;
    const cases = [
      pool('diff-p1', `${work}/outside`),
      pool('diff-p2', `${allowed}/../outside`),
      pool('diff-p3', `${allowed}/escape`),
      pool('diff-p4', `${poolDir}/inner`),
      pool('diff-p5', posix.dirname(poolDir)),
      pool('diff-p6', `${allowed}/sub`, `<target><path>${work}/outside</path></target>`),
    ];
    for (const xml of cases) {
      const res = await gw.query(CREATE_POOL, { xml });
      expect(res.errors, xml).toBeDefined();
    }
    for (const name of ['diff-p1', 'diff-p2', 'diff-p3', 'diff-p4', 'diff-p5', 'diff-p6']) {
      expect(await c.storagePoolByName(name).catch(() => undefined), name).toBeUndefined();
    }
    const ok = await gw.query(CREATE_POOL, { xml: pool('diff-ok', `${allowed}/sub/./pool`) });
    expect(ok.errors).toBeUndefined();
    const stored = parseStoragePoolXml(await (await c.storagePoolByName('diff-ok')).xml()).targetPath as string;
    expect(await insideRoots(stored)).toBe(true);
    const p = await c.storagePoolByName('diff-ok');
    if (await p.isActive()) await p.stop();
    await p.undefine();

    for (const backing of ['/etc/shadow', `${allowed}/escape/secret`, `${poolDir}/../../outside`]) {
      const vol = `<volume><name>diff.qcow2</name><capacity>1048576</capacity><target><format type="qcow2"/></target><backingStore><path>${backing}</path><format type="raw"/></backingStore></volume>`;
      const res = await gw.query(CREATE_VOLUME, { xml: vol });
      expect(res.errors, backing).toBeDefined();
    }
    const twice = `<volume><name>diff2.qcow2</name><capacity>1048576</capacity><target><format type="qcow2"/></target><backingStore><path>${poolDir}/x</path></backingStore><backingStore><path>/etc/shadow</path></backingStore></volume>`;
    expect((await gw.query(CREATE_VOLUME, { xml: twice })).errors?.[0]?.extensions?.code).toBe('INVALID_INPUT');
  });

  it('covers each domain path place of the schema table that QEMU on this libvirt defines', () => {
    const table = new Set(
      SCHEMA_PATH_PLACES.domain?.map(([parent, element, attribute]) => `${parent}/${element}@${attribute}`),
    );
    const placeOf = (t: Template) => t.place.split(' ')[0] as string;
    const covered = TEMPLATES.map(placeOf).filter((p) => table.has(p));
    // Every template names a real place of the generated table, or one the schema leaves untyped
    // (a typo, or a schema that starts typing a place, shows here).
    expect(TEMPLATES.filter((t) => table.has(placeOf(t)) === Boolean(t.untyped)).map((t) => t.place)).toEqual([]);
    console.info(`differential corpus covers ${new Set(covered).size} of ${table.size} domain path places`);
  });
});
