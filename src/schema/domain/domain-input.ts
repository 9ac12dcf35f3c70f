import {
  arch,
  bootDevices,
  capacityBytes,
  cloudInitText,
  cpuInput,
  cpuModel,
  diskBus,
  diskFormat,
  diskTargetDevice,
  displayPort,
  domainDescription,
  domainDiskInput,
  domainName,
  graphicsInput,
  hostName,
  kernelCmdline,
  listenAddress,
  machine,
  memoryKiB,
  poolName,
  sshAuthorizedKeys,
  vcpuCount,
  volumeName,
} from '../../validation/index.ts';
import { builder } from '../core/builder.ts';
import { lowerCaseEnum } from '../core/enum-types.ts';
import { VolumeRef } from '../storage/volume.ts';
import { NicInput } from './devices.ts';

// The typed description of a whole VM (createDomain, defineDomain): what the gateway writes as
// libvirt XML, with the volumes it creates for it. provision.ts turns it into a definition.

const BootDeviceEnum = lowerCaseEnum('BootDevice', 'A device the domain boots from, in order.', {
  HD: 'The first hard disk.',
  FD: 'The first floppy disk.',
  CDROM: 'The first CD-ROM.',
  NETWORK: 'The network (PXE).',
});

const DiskDevice = lowerCaseEnum('DiskDevice', 'How the guest sees a disk.', {
  DISK: 'A hard disk.',
  CDROM: 'A read-only CD-ROM drive.',
});

const NewVolumeInput = builder.inputType('NewVolumeInput', {
  description: 'A new, empty volume the gateway creates for the disk (Storage.Allocate and Storage.Use on the pool).',
  fields: (t) => ({
    pool: t.string({ required: true, description: 'The pool to create it in.', validate: poolName }),
    name: t.string({ required: true, description: 'The volume’s name in the pool.', validate: volumeName }),
    capacityBytes: t.field({
      type: 'BigInt',
      required: true,
      description: 'The size the guest sees, in bytes.',
      validate: capacityBytes,
    }),
    format: t.string({
      defaultValue: 'qcow2',
      description: 'Its image format (raw, qcow2…). @default qcow2',
      validate: diskFormat,
    }),
  }),
});

const LinkedCloneInput = builder.inputType('LinkedCloneInput', {
  description:
    'A linked clone: a new qcow2 overlay whose reads fall through to a base volume (a cloud image) and whose writes stay in the overlay. The base is never written. Storage.Use on the base’s pool; Storage.Allocate and Storage.Use on the overlay’s.',
  fields: (t) => ({
    base: t.field({ type: VolumeRef, required: true, description: 'The base image.' }),
    name: t.string({ required: true, description: 'The overlay’s name.', validate: volumeName }),
    pool: t.string({ description: 'The pool of the overlay; the base’s pool when omitted.', validate: poolName }),
    capacityBytes: t.field({
      type: 'BigInt',
      description: 'The size the guest sees, at least the base’s; the base’s when omitted.',
      validate: capacityBytes,
    }),
  }),
});

export const DomainDiskInput = builder.inputType('DomainDiskInput', {
  description: 'A disk of a new domain: exactly one of volume, newVolume or linkedClone.',
  fields: (t) => ({
    volume: t.field({ type: VolumeRef, description: 'An existing volume (Storage.Use on its pool).' }),
    newVolume: t.field({ type: NewVolumeInput, description: 'A new empty volume.' }),
    linkedClone: t.field({ type: LinkedCloneInput, description: 'A new overlay on a base volume.' }),
    device: t.field({ type: DiskDevice, defaultValue: 'disk', description: 'How the guest sees it. @default DISK' }),
    targetDevice: t.string({
      description: 'The guest device name (vda, sdb…); the next free vdX for a disk, sdX for a CD-ROM when omitted.',
      validate: diskTargetDevice,
    }),
    bus: t.string({
      description: 'virtio, sata, scsi…; virtio for disks, sata for CD-ROMs when omitted.',
      validate: diskBus,
    }),
    readonly: t.boolean({
      defaultValue: false,
      description: 'Read-only to the guest (CD-ROMs always are). @default false',
    }),
  }),
  validate: domainDiskInput,
});

const GraphicsType = lowerCaseEnum('GraphicsType', 'The protocol a display speaks.', {
  VNC: 'VNC (RFB): noVNC through openConsole, or any VNC client.',
  SPICE: 'SPICE: virt-viewer or spice-html5.',
});

const GraphicsInput = builder.inputType('GraphicsInput', {
  description: 'A display for the guest’s screen.',
  fields: (t) => ({
    type: t.field({ type: GraphicsType, defaultValue: 'vnc', description: 'The protocol it speaks. @default VNC' }),
    listen: t.string({
      description:
        'The address it listens on (0.0.0.0 for every address); the host’s default (127.0.0.1) when omitted.',
      validate: listenAddress,
    }),
    port: t.int({
      description: 'A fixed port; libvirt picks a free one when omitted (autoport).',
      validate: displayPort,
    }),
    password: t.string({
      description:
        'The password a client must give (VNC: at most 8 characters). Never readable back. Omitted, the display gets a random password that has already expired: only console tickets (openConsole), which set a one-time password, open it.',
    }),
  }),
  validate: graphicsInput,
});

const FirmwareType = builder.enumType('FirmwareType', {
  description: 'The firmware a domain boots with.',
  values: {
    BIOS: { value: 'bios', description: 'Legacy BIOS (SeaBIOS on x86).' },
    UEFI: { value: 'efi', description: 'UEFI (OVMF on x86): the host must have a UEFI firmware for the machine.' },
  } as const,
});

const FirmwareInput = builder.inputType('FirmwareInput', {
  description: 'The domain’s firmware; libvirt picks a matching firmware image installed on the host.',
  fields: (t) => ({
    type: t.field({ type: FirmwareType, required: true, description: 'BIOS or UEFI.' }),
    secureBoot: t.boolean({
      defaultValue: false,
      description: 'UEFI with Secure Boot and Microsoft’s keys enrolled (SMM on). @default false',
    }),
  }),
});

const CpuMode = builder.enumType('CpuMode', {
  description: 'What CPU the guest sees.',
  values: {
    HOST_PASSTHROUGH: {
      value: 'host-passthrough',
      description: 'The host’s CPU as it is (fastest; migrates only to identical hosts).',
    },
    HOST_MODEL: {
      value: 'host-model',
      description: 'The named model closest to the host’s CPU, with its extra features.',
    },
    CUSTOM: { value: 'custom', description: 'A named model (model), the same on every host that can run it.' },
  } as const,
});

const CpuInput = builder.inputType('CpuInput', {
  description: 'The guest CPU; the hypervisor’s default when omitted.',
  fields: (t) => ({
    mode: t.field({ type: CpuMode, required: true, description: 'How the CPU is chosen.' }),
    model: t.string({ description: 'The model, for mode CUSTOM (e.g. Skylake-Client).', validate: cpuModel }),
  }),
  validate: cpuInput,
});

const DirectKernelBootInput = builder.inputType('DirectKernelBootInput', {
  description:
    'Boots a kernel and initrd held in pool volumes instead of a disk’s boot loader (Storage.Use on their pools), as virt-install --boot kernel=… does.',
  fields: (t) => ({
    kernel: t.field({ type: VolumeRef, required: true, description: 'The kernel image.' }),
    initrd: t.field({ type: VolumeRef, description: 'The initial ramdisk.' }),
    cmdline: t.string({ description: 'The kernel command line.', validate: kernelCmdline }),
  }),
});

const CloudInitInput = builder.inputType('CloudInitInput', {
  description:
    'What cloud-init in the guest reads at first boot (its NoCloud datasource): the gateway writes a seed image (ISO 9660, label cidata) as a volume `<domain>-cidata.iso` beside the first disk’s volume (or in `pool`) and attaches it as a read-only CD-ROM.',
  fields: (t) => ({
    userData: t.string({
      description:
        'user-data as cloud-init takes it (#cloud-config YAML, a script…); an empty #cloud-config when omitted.',
      validate: cloudInitText,
    }),
    metaData: t.string({
      description: 'meta-data YAML (a mapping); instance-id defaults to the domain’s UUID.',
      validate: cloudInitText,
    }),
    networkConfig: t.string({
      description: 'network-config (version 1 or 2); cloud-init’s default (DHCP on the first NIC) when omitted.',
      validate: cloudInitText,
    }),
    hostname: t.string({ description: 'The guest’s host name (meta-data local-hostname).', validate: hostName }),
    sshAuthorizedKeys: t.stringList({
      description: 'Public keys for the default user (meta-data public-keys), one OpenSSH key a line.',
      validate: sshAuthorizedKeys,
    }),
    pool: t.string({
      description: 'The pool for the seed volume; the pool of the first disk when omitted.',
      validate: poolName,
    }),
  }),
});

const VirtType = lowerCaseEnum('VirtType', 'How the hypervisor runs a guest (the domain type).', {
  KVM: 'Hardware virtualization (KVM): the host’s CPU runs the guest.',
  QEMU: 'Emulation (QEMU’s TCG): slower, but runs where KVM is missing or unusable, and other architectures.',
});

export const DomainInput = builder.inputType('DomainInput', {
  description: 'A domain described by parameters; the gateway writes its XML and creates the volumes it asks for.',
  fields: (t) => ({
    name: t.string({
      required: true,
      description: 'Letters, digits, "-", "_" and "."; unique on the host.',
      validate: domainName,
    }),
    description: t.string({
      description: 'Free text stored in the definition (at most 4096 characters).',
      validate: domainDescription,
    }),
    vcpus: t.int({ defaultValue: 1, description: 'Virtual CPUs (1–4096). @default 1', validate: vcpuCount }),
    memoryKiB: t.field({
      type: 'BigInt',
      defaultValue: 524288n,
      description: 'Memory in KiB. @default 524288 (512 MiB)',
      validate: memoryKiB,
    }),
    arch: t.string({
      description: 'Guest architecture, e.g. x86_64; the host’s default when omitted.',
      validate: arch,
    }),
    machine: t.string({
      description: 'Machine type, e.g. pc or q35; the hypervisor’s default when omitted.',
      validate: machine,
    }),
    virtType: t.field({
      type: VirtType,
      description: 'KVM or QEMU (emulation); KVM where the host offers it when omitted.',
    }),
    bootDevices: t.field({
      type: [BootDeviceEnum],
      description: 'Boot order: at most 3 of HD, FD, CDROM, NETWORK, no repeats. @default [HD]',
      validate: bootDevices,
    }),
    disks: t.field({ type: [DomainDiskInput], description: 'Its disks and CD-ROMs, in order.' }),
    interfaces: t.field({ type: [NicInput], description: 'Its NICs (Network.Use on each network or bridge).' }),
    graphics: t.field({ type: [GraphicsInput], description: 'Its displays.' }),
    serial: t.boolean({
      defaultValue: false,
      description:
        'A serial port on a pty that is also its console (openConsole SERIAL, virsh console). @default false',
    }),
    firmware: t.field({
      type: FirmwareInput,
      description: 'BIOS or UEFI; the hypervisor’s default (BIOS) when omitted.',
    }),
    cpu: t.field({ type: CpuInput, description: 'The guest CPU.' }),
    kernel: t.field({ type: DirectKernelBootInput, description: 'Direct kernel boot.' }),
    cloudInit: t.field({ type: CloudInitInput, description: 'A cloud-init seed for the first boot.' }),
  }),
});

type VolumeRefValue = { id?: string | null; path?: string | null; key?: string | null };

export interface DomainDiskValue {
  volume?: VolumeRefValue | null;
  newVolume?: { pool: string; name: string; capacityBytes: bigint; format?: string | null } | null;
  linkedClone?: { base: VolumeRefValue; name: string; pool?: string | null; capacityBytes?: bigint | null } | null;
  device?: string | null;
  targetDevice?: string | null;
  bus?: string | null;
  readonly?: boolean | null;
}

export interface DomainInputValue {
  name: string;
  description?: string | null;
  vcpus?: number | null;
  memoryKiB?: bigint | null;
  arch?: string | null;
  machine?: string | null;
  virtType?: string | null;
  bootDevices?: string[] | null;
  disks?: DomainDiskValue[] | null;
  interfaces?: Array<{ kind: string; source: string; mac?: string | null; model?: string | null }> | null;
  graphics?: Array<{
    type?: string | null;
    listen?: string | null;
    port?: number | null;
    password?: string | null;
  }> | null;
  serial?: boolean | null;
  firmware?: { type: string; secureBoot?: boolean | null } | null;
  cpu?: { mode: string; model?: string | null } | null;
  kernel?: { kernel: VolumeRefValue; initrd?: VolumeRefValue | null; cmdline?: string | null } | null;
  cloudInit?: {
    userData?: string | null;
    metaData?: string | null;
    networkConfig?: string | null;
    hostname?: string | null;
    sshAuthorizedKeys?: string[] | null;
    pool?: string | null;
  } | null;
}
