import { LibvirtError, type Volume } from '../../libvirt/index.ts';
import type { DiskBackingStore, DomainDisk } from '../../libvirt/xml/domain-xml.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { knownAttribute, lowerCaseEnum } from '../core/enum-types.ts';
import { connectionOf } from '../core/hosts.ts';
import { whenLoaded } from '../core/read-fields.ts';
import { VolumeNode, type VolumeShape, visibleVolume, volumeAtPath, volumeInfo } from '../storage/volume.ts';
import { DomainNode, type DomainShape, domainDefinition } from './domain.ts';

interface DiskShape {
  domain: DomainShape;
  disk: DomainDisk;
}

/** The pool volume a `<disk type='volume'>` names (`<source pool= volume=>`); null when the host has none by that name. */
async function namedVolume(ctx: GatewayContext, s: DiskShape): Promise<Volume | null> {
  const { pool, volume } = s.disk.source;
  if (pool === undefined || volume === undefined) return null;
  const c = await connectionOf(ctx, s.domain.host);
  try {
    return await (await c.storagePoolByName(pool)).volumeByName(volume);
  } catch (e) {
    if (e instanceof LibvirtError && ['NO_STORAGE_POOL', 'NO_STORAGE_VOL'].includes(e.codeName)) return null;
    throw e;
  }
}

/** The host path behind the disk: its source file, device or directory, or the path of the pool volume it names. */
async function sourcePathOf(ctx: GatewayContext, s: DiskShape): Promise<string | null> {
  if (s.disk.sourcePath !== undefined) return s.disk.sourcePath;
  return (await namedVolume(ctx, s))?.path ?? null;
}

async function volumeOf(s: DiskShape, ctx: GatewayContext): Promise<VolumeShape | null> {
  if (s.disk.type === 'volume') {
    // As for a path: the volume is there for those who may audit its pool (and see every domain using it).
    if (!ctx.identity.canSome('Storage.Audit', s.domain.host)) return null;
    const object = await namedVolume(ctx, s);
    return object ? visibleVolume(ctx, { host: s.domain.host, object }) : null;
  }
  return s.disk.sourcePath ? volumeAtPath(ctx, s.domain.host, s.disk.sourcePath) : null;
}

/** libvirt's `<disk type>` values (domaincommon.rng). */
const DISK_TYPES = {
  FILE: 'An image file on the host.',
  BLOCK: 'A host block device.',
  DIR: 'A host directory presented as a virtual FAT disk.',
  NETWORK: 'A network block device (NBD, iSCSI, RBD, Gluster…).',
  VOLUME: 'A storage pool volume named by pool and volume.',
  NVME: 'An NVMe device of the host, driven by QEMU.',
  VHOSTUSER: 'A vhost-user block device served by another process.',
} as const;
const DiskType = lowerCaseEnum('DiskType', 'What backs a domain’s disk (libvirt’s `<disk type>`).', DISK_TYPES);

/** libvirt's `<disk device>` values. */
const DISK_DEVICES = {
  DISK: 'A hard disk.',
  CDROM: 'A CD-ROM drive.',
  FLOPPY: 'A floppy drive.',
  LUN: 'A SCSI LUN passed through to the guest.',
} as const;
const DiskDeviceType = lowerCaseEnum('DomainDiskDevice', 'How the guest sees a domain’s disk.', DISK_DEVICES);

/** libvirt's `<source protocol>` values of a network disk. */
const DISK_PROTOCOLS = {
  NBD: 'A Network Block Device export.',
  ISCSI: 'An iSCSI LUN.',
  RBD: 'A Ceph RBD image.',
  SHEEPDOG: 'A Sheepdog image.',
  GLUSTER: 'A file on a Gluster volume.',
  VXHS: 'A Veritas HyperScale image.',
  NFS: 'A file on an NFS export (QEMU’s own client).',
  HTTP: 'An image read over HTTP.',
  HTTPS: 'An image read over HTTPS.',
  FTP: 'An image read over FTP.',
  FTPS: 'An image read over FTPS.',
  TFTP: 'An image read over TFTP.',
  SSH: 'An image read over SSH (sftp).',
} as const;
const DiskProtocol = lowerCaseEnum('DiskProtocol', 'How QEMU reaches a network disk’s image.', DISK_PROTOCOLS);

const DomainDiskSource = builder.objectRef<DiskShape>('DomainDiskSource').implement({
  description:
    'What backs a disk, as its <source> says: a file, block device or directory, a pool volume, or a network image.',
  fields: (t) => ({
    kind: t.field({
      type: DiskType,
      description: 'The disk type, as the disk’s `type`; null for one the gateway does not know.',
      resolve: (s) => knownAttribute(DISK_TYPES, s.disk.type),
    }),
    path: t.string({
      description: 'The host path: the file, device or directory, or the pool volume’s path.',
      resolve: (s, _a, ctx) => sourcePathOf(ctx, s),
    }),
    pool: t.string({
      description: 'For a volume: the storage pool it names.',
      resolve: (s) => s.disk.source.pool ?? null,
    }),
    volume: t.string({
      description: 'For a volume: the volume name in that pool.',
      resolve: (s) => s.disk.source.volume ?? null,
    }),
    protocol: t.field({
      type: DiskProtocol,
      description:
        'For a network disk: how QEMU reaches it; null otherwise, or for a protocol the gateway does not know.',
      resolve: (s) => knownAttribute(DISK_PROTOCOLS, s.disk.source.protocol),
    }),
    name: t.string({
      description: 'For a network disk: the image name (pool/image for rbd, the iSCSI target…).',
      resolve: (s) => (s.disk.type === 'network' ? (s.disk.source.name ?? null) : null),
    }),
  }),
});

/** libvirt's `<target bus>` values of a disk. */
const DISK_BUSES = {
  VIRTIO: 'virtio-blk, the paravirtual disk.',
  SCSI: 'A SCSI controller (virtio-scsi unless the controller says otherwise).',
  SATA: 'An AHCI (SATA) controller.',
  IDE: 'An IDE controller.',
  USB: 'A USB mass-storage device.',
  FDC: 'The floppy controller.',
  SD: 'An SD card.',
  XEN: 'Xen’s paravirtual disk.',
  UML: 'User-mode Linux’s disk.',
} as const;
const DiskBus = lowerCaseEnum(
  'DiskBus',
  'The bus a domain’s disk is attached to (libvirt’s `<target bus>`).',
  DISK_BUSES,
);

interface BackingShape {
  domain: DomainShape;
  store: DiskBackingStore;
}

const DiskBackingStoreRef = builder.objectRef<BackingShape>('DiskBackingStore').implement({
  description:
    'One image below a disk’s active layer (libvirt’s <backingStore>): an external snapshot’s base, a linked clone’s source…',
  fields: (t) => ({
    type: t.field({
      type: DiskType,
      description: 'What the image is; null for a type the gateway does not know.',
      resolve: (b) => knownAttribute(DISK_TYPES, b.store.type),
    }),
    format: t.string({ description: 'raw, qcow2…', resolve: (b) => b.store.format ?? null }),
    path: t.string({
      description: 'The file or device; null for a network image.',
      resolve: (b) => b.store.path ?? null,
    }),
    volume: t.field({
      type: VolumeNode,
      description: 'The storage volume at that path, when a pool of this host holds it.',
      resolve: (b, _a, ctx) => (b.store.path ? volumeAtPath(ctx, b.domain.host, b.store.path) : null),
    }),
  }),
});

const DomainDiskRef = builder.objectRef<DiskShape>('DomainDisk').implement({
  description:
    'A disk (or CD-ROM, floppy, LUN) attached to a domain, with the storage volume behind it when a pool holds it.',
  fields: (t) => ({
    type: t.field({
      type: DiskType,
      description: 'What backs it; null for a type the gateway does not know.',
      resolve: (s) => knownAttribute(DISK_TYPES, s.disk.type),
    }),
    device: t.field({
      type: DiskDeviceType,
      description: 'How the guest sees it; null for a device kind the gateway does not know.',
      resolve: (s) => knownAttribute(DISK_DEVICES, s.disk.device),
    }),
    format: t.string({
      description: 'Image format from the driver: raw, qcow2…',
      resolve: (s) => s.disk.driverType ?? null,
    }),
    sourcePath: t.string({
      description:
        'The file, block device or directory on the host, or the path of the pool volume a volume disk names; null for network disks and empty drives.',
      resolve: (s, _a, ctx) => sourcePathOf(ctx, s),
    }),
    source: t.field({
      type: DomainDiskSource,
      nullable: false,
      description: 'Which kind of source backs it, with the pool and volume or the network protocol and image name.',
      resolve: (s) => s,
    }),
    targetDevice: t.string({
      nullable: false,
      description: 'The guest device name, e.g. vda.',
      resolve: (s) => s.disk.target.dev,
    }),
    bus: t.field({
      type: DiskBus,
      description: 'The bus it is on; null when the definition names none, or one the gateway does not know.',
      resolve: (s) => knownAttribute(DISK_BUSES, s.disk.target.bus),
    }),
    readonly: t.boolean({
      nullable: false,
      description: 'Whether the guest sees it read-only.',
      resolve: (s) => s.disk.readonly,
    }),
    shareable: t.boolean({
      nullable: false,
      description: 'Whether several domains may use it at once.',
      resolve: (s) => s.disk.shareable,
    }),
    serial: t.string({
      description: 'The serial number the guest sees, when set.',
      resolve: (s) => s.disk.serial ?? null,
    }),
    alias: t.string({ description: 'The device alias of a running domain.', resolve: (s) => s.disk.alias ?? null }),
    backingChain: t.field({
      type: [DiskBackingStoreRef],
      nullable: false,
      description:
        'The images below the active layer, top first, as libvirt reports them (external snapshots, linked clones); empty for a standalone image.',
      resolve: (s) => s.disk.backingChain.map((store) => ({ domain: s.domain, store })),
    }),
    volume: t.field({
      type: VolumeNode,
      description:
        'The storage volume behind it: the one a volume disk names, or the one at sourcePath when a pool of this host holds it.',
      resolve: (s, _a, ctx) => volumeOf(s, ctx),
    }),
    capacityBytes: t.field({
      type: 'BigInt',
      description: 'Size the guest sees, in bytes (from the volume; null when no pool holds it).',
      resolve: async (s, _a, ctx) => {
        const v = await volumeOf(s, ctx);
        return v ? (await volumeInfo(ctx, v)).capacityBytes : null;
      },
    }),
    allocationBytes: t.field({
      type: 'BigInt',
      description: 'Bytes allocated on the host (from the volume; null when no pool holds it).',
      resolve: async (s, _a, ctx) => {
        const v = await volumeOf(s, ctx);
        return v ? (await volumeInfo(ctx, v)).allocationBytes : null;
      },
    }),
  }),
});

builder.objectFields(DomainNode, (t) => ({
  disks: t.field({
    type: [DomainDiskRef],
    description: 'The domain’s disks, in definition order.',
    resolve: (s, _a, ctx) => whenLoaded(domainDefinition(ctx, s), (d) => d.disks.map((disk) => ({ domain: s, disk }))),
  }),
}));
