import type { DomainDisk } from '../libvirt/xml/domain-xml.ts';
import { builder } from './builder.ts';
import { DomainNode, type DomainShape, domainDefinition } from './domain.ts';
import { VolumeNode, volumeAtPath, volumeInfo } from './volume.ts';

interface DiskShape {
  domain: DomainShape;
  disk: DomainDisk;
}

const volumeOf = (s: DiskShape, ctx: Parameters<typeof volumeAtPath>[0]) =>
  s.disk.sourcePath ? volumeAtPath(ctx, s.domain.host, s.disk.sourcePath) : Promise.resolve(null);

const DomainDiskRef = builder.objectRef<DiskShape>('DomainDisk').implement({
  description:
    'A disk (or CD-ROM, floppy, LUN) attached to a domain, with the storage volume behind it when a pool holds it.',
  fields: (t) => ({
    type: t.string({
      nullable: false,
      description: 'file, block, network, volume or dir.',
      resolve: (s) => s.disk.type,
    }),
    device: t.string({ nullable: false, description: 'disk, cdrom, floppy or lun.', resolve: (s) => s.disk.device }),
    format: t.string({
      description: 'Image format from the driver: raw, qcow2…',
      resolve: (s) => s.disk.driverType ?? null,
    }),
    sourcePath: t.string({
      description: 'The file, block device or directory on the host; null for network disks and empty drives.',
      resolve: (s) => s.disk.sourcePath ?? null,
    }),
    targetDevice: t.string({
      nullable: false,
      description: 'The guest device name, e.g. vda.',
      resolve: (s) => s.disk.target.dev,
    }),
    bus: t.string({ description: 'virtio, scsi, sata, ide, usb…', resolve: (s) => s.disk.target.bus ?? null }),
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
    volume: t.field({
      type: VolumeNode,
      description: 'The storage volume at sourcePath, when a pool of this host holds it.',
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
    resolve: async (s, _a, ctx) => (await domainDefinition(ctx, s)).disks.map((disk) => ({ domain: s, disk })),
  }),
}));
