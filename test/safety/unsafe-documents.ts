/** Client documents the host-safety policy refuses by default, each with the config that allows it. */
export interface UnsafeCase {
  name: string;
  /** What extensions.element names. */
  element: string;
  /** What extensions.allowedBy names. */
  allowedBy: string;
  /** Config keys that allow it. */
  allow: Record<string, unknown>;
  /** The element inside a domain: a device under <devices>, or a top-level part of the domain. */
  device?: string;
  domainPart?: string;
  /** The path refused, when the case is about one. */
  path?: string;
}

export const QEMU_NS = 'http://libvirt.org/schemas/domain/qemu/1.0';

const allowXml = (allow: Record<string, unknown>) => ({ xml: { allow } });

/** One case per host-reaching element of issue 9. */
export function unsafeDomainCases(
  outside: string,
  /** A network or bridge the host has, and a directory of one of its pools. */
  host: { lan: { type: 'network' | 'bridge'; name: string }; poolDir: string } = {
    lan: { type: 'bridge', name: 'virbr-lan' },
    poolDir: '/default-pool',
  },
): UnsafeCase[] {
  const { lan, poolDir } = host;
  return [
    {
      name: 'qemu:commandline',
      element: 'qemu:commandline',
      allowedBy: 'xml.allow.qemuNamespace',
      allow: allowXml({ qemuNamespace: true }),
      domainPart: `<qemu:commandline xmlns:qemu="${QEMU_NS}"><qemu:arg value="-chardev"/><qemu:arg value="file,id=x,path=${outside}/qemu-made"/></qemu:commandline>`,
    },
    {
      name: 'qemu:capabilities',
      element: 'qemu:capabilities',
      allowedBy: 'xml.allow.qemuNamespace',
      allow: allowXml({ qemuNamespace: true }),
      domainPart: `<qemu:capabilities xmlns:qemu="${QEMU_NS}"><qemu:add capability="blockdev"/></qemu:capabilities>`,
    },
    {
      name: 'qemu namespace as a default namespace',
      element: 'commandline',
      allowedBy: 'xml.allow.qemuNamespace',
      allow: allowXml({ qemuNamespace: true }),
      domainPart: `<commandline xmlns="${QEMU_NS}"><arg value="-S"/></commandline>`,
    },
    {
      name: 'interface type ethernet',
      element: 'interface',
      allowedBy: 'xml.allow.interfaceTypes',
      allow: allowXml({ interfaceTypes: ['ethernet'] }),
      device: '<interface type="ethernet"><target dev="tap-unsafe"/></interface>',
    },
    {
      name: 'interface script path',
      element: 'script',
      allowedBy: 'xml.allow.interfaceScripts',
      allow: allowXml({ interfaceScripts: true }),
      device: `<interface type="${lan.type}"><source ${lan.type}="${lan.name}"/><script path="${outside}/run-me.sh"/></interface>`,
    },
    {
      name: 'interface type direct',
      element: 'interface',
      allowedBy: 'xml.allow.interfaceTypes',
      allow: allowXml({ interfaceTypes: ['direct'] }),
      device: '<interface type="direct"><source dev="eth1" mode="bridge"/></interface>',
    },
    {
      name: 'NIC on a network the host lacks',
      element: 'source',
      allowedBy: 'xml.allow.unlistedNetworks',
      allow: allowXml({ unlistedNetworks: true }),
      device: '<interface type="network"><source network="no-such-net"/></interface>',
    },
    {
      name: 'hostdev',
      element: 'hostdev',
      allowedBy: 'xml.allow.hostdev',
      allow: allowXml({ hostdev: true }),
      device:
        '<hostdev mode="subsystem" type="pci" managed="yes"><source><address domain="0x0000" bus="0x00" slot="0x1f" function="0x2"/></source></hostdev>',
    },
    {
      name: 'filesystem passthrough',
      element: 'filesystem',
      allowedBy: 'xml.allow.filesystem',
      allow: allowXml({ filesystem: true }),
      device:
        '<filesystem type="mount" accessmode="passthrough"><source dir="/"/><target dir="hostroot"/></filesystem>',
    },
    {
      name: 'shmem',
      element: 'shmem',
      allowedBy: 'xml.allow.shmem',
      allow: allowXml({ shmem: true }),
      device: '<shmem name="unsafe-shm"><model type="ivshmem-plain"/><size unit="M">4</size></shmem>',
    },
    {
      name: 'serial to a file',
      element: 'serial',
      allowedBy: 'xml.allow.charSourceTypes',
      allow: allowXml({ charSourceTypes: ['file'] }),
      device: `<serial type="file"><source path="${outside}/serial.log"/><target port="0"/></serial>`,
    },
    {
      name: 'console on a unix socket path',
      element: 'console',
      allowedBy: 'xml.allow.charSourceTypes',
      allow: allowXml({ charSourceTypes: ['unix'] }),
      device: `<console type="unix"><source mode="bind" path="${outside}/console.sock"/><target type="serial"/></console>`,
    },
    {
      name: 'channel on a pipe',
      element: 'channel',
      allowedBy: 'xml.allow.charSourceTypes',
      allow: allowXml({ charSourceTypes: ['pipe'] }),
      device: `<channel type="pipe"><source path="${outside}/pipe"/><target type="virtio" name="x.0"/></channel>`,
    },
    {
      name: 'parallel on a host device',
      element: 'parallel',
      allowedBy: 'xml.allow.charSourceTypes',
      allow: allowXml({ charSourceTypes: ['dev'] }),
      device: '<parallel type="dev"><source path="/dev/parport0"/><target port="0"/></parallel>',
    },
    {
      name: 'serial listening on TCP',
      element: 'serial',
      allowedBy: 'xml.allow.charSourceTypes',
      allow: allowXml({ charSourceTypes: ['tcp'] }),
      device: '<serial type="tcp"><source mode="bind" host="0.0.0.0" service="2445"/><target port="1"/></serial>',
    },
    {
      name: 'serial over UDP',
      element: 'serial',
      allowedBy: 'xml.allow.charSourceTypes',
      allow: allowXml({ charSourceTypes: ['udp'] }),
      device: '<serial type="udp"><source mode="connect" host="127.0.0.1" service="2446"/><target port="2"/></serial>',
    },
    {
      name: 'disk outside the storage roots',
      element: 'source',
      allowedBy: 'storage.allowedPaths',
      allow: { storage: { allowedPaths: ['/etc'] } },
      path: '/etc/shadow',
      device: '<disk type="file" device="disk"><source file="/etc/shadow"/><target dev="vdz" bus="virtio"/></disk>',
    },
    {
      name: 'block disk /dev/sda',
      element: 'source',
      allowedBy: 'storage.allowedPaths',
      allow: { storage: { allowedPaths: ['/dev/sda'] } },
      path: '/dev/sda',
      device: '<disk type="block" device="disk"><source dev="/dev/sda"/><target dev="vdy" bus="virtio"/></disk>',
    },
    {
      name: 'network disk',
      element: 'disk',
      allowedBy: 'xml.allow.diskTypes',
      allow: allowXml({ diskTypes: ['network'] }),
      device:
        '<disk type="network" device="disk"><source protocol="http" name="/image.raw"><host name="169.254.169.254" port="80"/></source><target dev="vdx" bus="virtio"/></disk>',
    },
    {
      name: 'char device log file',
      element: 'log',
      allowedBy: 'storage.allowedPaths',
      allow: { storage: { allowedPaths: [outside] } },
      path: `${outside}/pty.log`,
      device: `<serial type="pty"><log file="${outside}/pty.log" append="on"/><target port="3"/></serial>`,
    },
    {
      name: 'emulator the host does not list',
      element: 'emulator',
      allowedBy: 'xml.allow.emulator',
      allow: allowXml({ emulator: true }),
      path: `${outside}/evil-emulator`,
      device: `<emulator>${outside}/evil-emulator</emulator>`,
    },
    {
      name: 'os kernel outside the storage roots',
      element: 'kernel',
      allowedBy: 'storage.allowedPaths',
      allow: { storage: { allowedPaths: ['/etc'] } },
      path: '/etc/passwd',
      domainPart: 'OS:<kernel>/etc/passwd</kernel>',
    },
    {
      name: 'os initrd outside the storage roots',
      element: 'initrd',
      allowedBy: 'storage.allowedPaths',
      allow: { storage: { allowedPaths: ['/etc'] } },
      path: '/etc/group',
      domainPart: 'OS:<initrd>/etc/group</initrd>',
    },
    {
      name: 'os loader outside the storage roots',
      element: 'loader',
      allowedBy: 'storage.allowedPaths',
      allow: { storage: { allowedPaths: [outside] } },
      path: `${outside}/OVMF.fd`,
      domainPart: `OS:<loader readonly="yes" type="pflash">${outside}/OVMF.fd</loader>`,
    },
    {
      name: 'os nvram outside the storage roots',
      element: 'nvram',
      allowedBy: 'storage.allowedPaths',
      allow: { storage: { allowedPaths: [outside] } },
      path: `${outside}/VARS.fd`,
      domainPart: `OS:<loader readonly="yes" type="pflash">${poolDir}/OVMF.fd</loader><nvram>${outside}/VARS.fd</nvram>`,
    },
    {
      name: 'seclabel turning confinement off',
      element: 'seclabel',
      allowedBy: 'xml.allow.seclabel',
      allow: allowXml({ seclabel: true }),
      domainPart: '<seclabel type="none"/>',
    },
    {
      name: 'fw_cfg entry reading a host file',
      element: 'entry',
      allowedBy: 'storage.allowedPaths',
      allow: { storage: { allowedPaths: ['/etc'] } },
      path: '/etc/shadow',
      domainPart: '<sysinfo type="fwcfg"><entry name="opt/x" file="/etc/shadow"/></sysinfo>',
    },
  ];
}

/** A domain document holding the case's element, in the given domain type. */
export function domainWith(c: UnsafeCase, name: string, type = 'test'): string {
  const os = c.domainPart?.startsWith('OS:') ? c.domainPart.slice(3) : '';
  const part = c.domainPart && !c.domainPart.startsWith('OS:') ? c.domainPart : '';
  return `<domain type="${type}"><name>${name}</name><memory unit="MiB">64</memory><vcpu>1</vcpu><os><type arch="x86_64">hvm</type>${os}</os>${part}<devices>${c.device ?? ''}</devices></domain>`;
}

/** Device fragments that identify nothing: libvirt 9.0's daemon crashes on a detach of `<disk/>`. */
export const VAGUE_FRAGMENTS = ['<disk/>', "<x:disk xmlns:x='urn:x'/>", '<interface/>', "<disk xmlns='urn:x'/>"];
