import { randomBytes, randomUUID } from 'node:crypto';
import { CloudInitError, nocloudSeedIso } from '../../cloud-init/nocloud-seed.ts';
import { type Connection, LibvirtError, type StoragePool, type Volume } from '../../libvirt/index.ts';
import { parseDomainCapabilitiesXml } from '../../libvirt/xml/domain-capabilities-xml.ts';
import {
  buildDomainXml,
  type DiskSpec,
  type DomainSpec,
  type GraphicsSpec,
  inferBus,
} from '../../libvirt/xml/domain-spec-xml.ts';
import type { BootDevice, DomainType } from '../../libvirt/xml/domain-xml.ts';
import { passwordValidTo } from '../../libvirt/xml/graphics-xml.ts';
import { buildVolumeXml, parseVolumeXml } from '../../libvirt/xml/volume-xml.ts';
import type { GatewayContext } from '../core/context.ts';
import { gatewayError, invalidInput } from '../core/errors.ts';
import { checkBuiltXml } from '../core/host-safety.ts';
import { connectionOf } from '../core/hosts.ts';
import { offeredDomainTypes, preferredDomainType } from '../host/hypervisor.ts';
import { pools } from '../storage/pool.ts';
import { requireOnPool } from '../storage/pool-grants.ts';
import { findVolume, poolOf } from '../storage/volume.ts';
import type { DomainDiskValue, DomainInputValue } from './domain-input.ts';

// From a typed DomainInput to a definition: the volumes it names are found and checked against
// the caller's storage grants, the volumes it asks for are planned (created by `steps`, deleted
// again when a later step fails), and the XML is built once their paths are known.

type VolumeRefValue = { id?: string | null; path?: string | null; key?: string | null };

/** A volume the definition uses as it is. */
interface UsedVolume {
  path: string;
  kind: 'file' | 'block';
  format?: string;
  /** The pool it is in, as the grant check found it: where a linked clone or a seed goes by default. */
  pool: string;
}

/** A disk: its place in the guest, and a volume that exists or one to create. */
interface DiskPlan {
  field: string;
  device: 'disk' | 'cdrom';
  targetDev: string;
  bus: string;
  readonly: boolean;
  source: UsedVolume | NewVolume;
}

/** A volume the steps create: empty, or holding `data` (a cloud-init seed). */
interface NewVolume {
  pool: StoragePool;
  volumeXml: string;
  format: string;
  data?: Buffer;
  made?: Volume;
}

/** A multi-step change's step, as allOrNothing runs it. */
export interface Step {
  run: () => Promise<unknown>;
  undo?: () => Promise<unknown>;
}

export interface ProvisionPlan {
  /** Creates the volumes the input asks for (each undone by deleting it), then checks the definition. */
  steps: Step[];
  /** The definition, once the steps have run. */
  xml: () => string;
}

interface Planner {
  ctx: GatewayContext;
  host: string;
  c: Connection;
  mutation: string;
}

/** An existing volume the caller may see (else NOT_FOUND) and use (Storage.Use on its pool). */
async function usableVolume(
  p: Planner,
  ref: VolumeRefValue,
  field: string,
): Promise<UsedVolume & { capacity: bigint }> {
  const s = await findVolume(p.ctx, p.host, ref);
  const pool = await poolOf(p.ctx, s);
  if (pool instanceof Error) throw pool;
  requireOnPool(p.ctx, p.host, pool.object.name, ['Storage.Use'], p.mutation, `the pool of ${field}`);
  const info = await s.object.info();
  if (info.type !== 'FILE' && info.type !== 'BLOCK') {
    throw invalidInput(
      field,
      `volume ${s.object.path} is a ${info.type.toLowerCase()} volume; a disk needs a file or block volume`,
    );
  }
  const format = parseVolumeXml(await s.object.xml()).format;
  return {
    path: s.object.path,
    kind: info.type === 'FILE' ? 'file' : 'block',
    ...(format !== undefined ? { format } : {}),
    pool: pool.object.name,
    capacity: info.capacityBytes,
  };
}

/** An active pool the caller may make volumes in, where `name` is still free. */
async function poolForNew(p: Planner, pool: string, name: string, field: string): Promise<StoragePool> {
  const s = await pools.find(p.ctx, p.host, pool);
  requireOnPool(p.ctx, p.host, pool, ['Storage.Allocate', 'Storage.Use'], p.mutation, `the pool of ${field}`);
  if (!(await s.object.isActive())) {
    throw gatewayError('INVALID_STATE', `storage pool ${pool} is not active`, { host: p.host, field: `${field}.pool` });
  }
  if ((await s.object.volumes()).some((v) => v.name === name)) {
    throw invalidInput(`${field}.name`, `storage pool ${pool} already has a volume named ${name}`);
  }
  return s.object;
}

/** Writes `data` at the start of a new volume through a libvirt stream (any transport: TLS, SSH…). */
async function fill(volume: Volume, data: Buffer): Promise<void> {
  const upload = await volume.upload({ offset: 0n, length: BigInt(data.length) }, { sparse: false });
  try {
    await upload.write(data);
    await upload.finish(true);
  } catch (e) {
    await upload.abort();
    throw e;
  }
}

/**
 * The cloud-init seed as a CD-ROM: an ISO image in a new raw volume `<domain>-cidata.iso`, in the
 * pool asked for or the pool of the first disk.
 */
async function seedDisk(
  p: Planner,
  input: DomainInputValue,
  uuid: string,
  disks: DiskPlan[],
): Promise<DiskPlan | undefined> {
  const ci = input.cloudInit;
  if (!ci) return undefined;
  const field = 'domain.cloudInit';
  let iso: Buffer;
  try {
    iso = nocloudSeedIso({
      ...(ci.userData != null ? { userData: ci.userData } : {}),
      ...(ci.metaData != null ? { metaData: ci.metaData } : {}),
      ...(ci.networkConfig != null ? { networkConfig: ci.networkConfig } : {}),
      ...(ci.hostname != null ? { hostname: ci.hostname } : {}),
      ...(ci.sshAuthorizedKeys != null ? { sshAuthorizedKeys: ci.sshAuthorizedKeys } : {}),
      instanceId: uuid,
    });
  } catch (e) {
    if (e instanceof CloudInitError) throw invalidInput(`${field}.${e.field}`, `${e.field} ${e.message}`);
    throw e;
  }
  const first = disks[0]?.source;
  const poolName = ci.pool ?? (first === undefined ? undefined : 'path' in first ? first.pool : first.pool.name);
  if (poolName === undefined) {
    throw invalidInput(`${field}.pool`, 'name a pool for the seed volume: the domain has no disk to put it beside');
  }
  const name = `${input.name}-cidata.iso`;
  const pool = await poolForNew(p, poolName, name, field);
  const taken = new Set(disks.map((d) => d.targetDev));
  return {
    field,
    device: 'cdrom',
    targetDev: nextTarget('sd', taken),
    bus: 'sata',
    readonly: true,
    source: {
      pool,
      format: 'raw',
      data: iso,
      volumeXml: buildVolumeXml({ name, capacityBytes: BigInt(iso.length), format: 'raw' }),
    },
  };
}

async function diskSource(p: Planner, disk: DomainDiskValue, field: string): Promise<DiskPlan['source']> {
  if (disk.volume) {
    const { capacity: _, ...used } = await usableVolume(p, disk.volume, `${field}.volume`);
    return used;
  }
  if (disk.newVolume) {
    const n = disk.newVolume;
    const format = n.format ?? 'qcow2';
    const pool = await poolForNew(p, n.pool, n.name, `${field}.newVolume`);
    return { pool, format, volumeXml: buildVolumeXml({ name: n.name, capacityBytes: n.capacityBytes, format }) };
  }
  const l = disk.linkedClone as NonNullable<DomainDiskValue['linkedClone']>;
  const base = await usableVolume(p, l.base, `${field}.linkedClone.base`);
  if (base.kind !== 'file')
    throw invalidInput(`${field}.linkedClone.base`, 'a linked clone’s base must be a file volume');
  const capacity = l.capacityBytes ?? base.capacity;
  if (capacity < base.capacity) {
    throw invalidInput(`${field}.linkedClone.capacityBytes`, `must be at least the base’s ${base.capacity} bytes`);
  }
  const poolName = l.pool ?? base.pool;
  const pool = await poolForNew(p, poolName, l.name, `${field}.linkedClone`);
  const volumeXml = buildVolumeXml({
    name: l.name,
    capacityBytes: capacity,
    format: 'qcow2',
    backingStore: { path: base.path, format: base.format ?? 'raw' },
  });
  return { pool, format: 'qcow2', volumeXml };
}

/** The next guest device name of a prefix (vd, sd) no other disk has. */
function nextTarget(prefix: string, taken: Set<string>): string {
  for (const letter of 'abcdefghijklmnopqrstuvwxyz') {
    if (!taken.has(`${prefix}${letter}`)) return `${prefix}${letter}`;
  }
  throw invalidInput('domain.disks', `no free ${prefix}a–${prefix}z device name left`);
}

async function planDisks(p: Planner, disks: readonly DomainDiskValue[]): Promise<DiskPlan[]> {
  const taken = new Set(disks.flatMap((d) => (d.targetDevice ? [d.targetDevice] : [])));
  if (taken.size !== disks.filter((d) => d.targetDevice).length) {
    throw invalidInput('domain.disks', 'two disks have the same targetDevice');
  }
  const plans: DiskPlan[] = [];
  for (const [i, disk] of disks.entries()) {
    const field = `domain.disks.${i}`;
    const device = disk.device === 'cdrom' ? 'cdrom' : 'disk';
    const targetDev = disk.targetDevice ?? nextTarget(device === 'cdrom' ? 'sd' : 'vd', taken);
    taken.add(targetDev);
    const bus = disk.bus ?? (device === 'cdrom' ? 'sata' : (inferBus(targetDev) ?? 'virtio'));
    const readonly = device === 'cdrom' || disk.readonly === true;
    plans.push({ field, device, targetDev, bus, readonly, source: await diskSource(p, disk, field) });
  }
  return plans;
}

function diskSpec(d: DiskPlan): DiskSpec | undefined {
  const source =
    'path' in d.source
      ? d.source
      : d.source.made && { path: d.source.made.path, kind: 'file' as const, format: d.source.format };
  if (!source) return undefined;
  return {
    kind: source.kind,
    sourcePath: source.path,
    targetDev: d.targetDev,
    bus: d.bus,
    driverType: source.format ?? 'raw',
    readonly: d.readonly,
    device: d.device,
  };
}

/**
 * A display as asked. Without a password, a random one that expired at the epoch: nobody opens
 * the display with it, and it turns password authentication on, so a console ticket can set a
 * one-time password live (QEMU refuses one on a display started without).
 */
function graphicsSpec(g: NonNullable<DomainInputValue['graphics']>[number]): GraphicsSpec {
  return {
    type: (g.type ?? 'vnc') as GraphicsSpec['type'],
    listen: g.listen ?? undefined,
    port: g.port ?? undefined,
    ...(g.password != null
      ? { password: g.password }
      : { password: randomBytes(6).toString('base64url'), passwordValidTo: passwordValidTo(new Date(0)) }),
  };
}

/** UNSUPPORTED when the host has no firmware or CPU mode of the kind asked for (where libvirt says). */
async function checkHostOffers(p: Planner, input: DomainInputValue, type: string): Promise<void> {
  if (input.firmware?.type !== 'efi' && input.cpu == null) return;
  const xml = await p.c
    .domainCapabilities({ arch: input.arch ?? undefined, machine: input.machine ?? undefined, virtType: type })
    .catch((e: unknown) => {
      // The test driver and old daemons cannot say: libvirt decides when the domain starts.
      if (e instanceof LibvirtError && ['NO_SUPPORT', 'OPERATION_UNSUPPORTED'].includes(e.codeName)) return undefined;
      throw e;
    });
  if (xml === undefined) return;
  const caps = parseDomainCapabilitiesXml(xml);
  const guest = `${caps.arch ?? input.arch ?? 'the default arch'} ${caps.machine ?? ''} ${type} guests`.replace(
    '  ',
    ' ',
  );
  if (input.firmware?.type === 'efi' && !caps.firmware.includes('efi')) {
    throw gatewayError('UNSUPPORTED', `host ${p.host} has no UEFI firmware for ${guest} (install OVMF)`, {
      host: p.host,
      field: 'domain.firmware',
    });
  }
  if (input.firmware?.secureBoot === true && !caps.secureBoot) {
    throw gatewayError('UNSUPPORTED', `host ${p.host} has no Secure Boot UEFI firmware for ${guest}`, {
      host: p.host,
      field: 'domain.firmware.secureBoot',
    });
  }
  const cpu = input.cpu;
  if (cpu && !caps.cpuModes.includes(cpu.mode)) {
    throw gatewayError('UNSUPPORTED', `host ${p.host} offers no CPU mode ${cpu.mode} for ${guest}`, {
      host: p.host,
      field: 'domain.cpu.mode',
    });
  }
  if (cpu?.model && !caps.cpuModels.includes(cpu.model)) {
    throw invalidInput('domain.cpu.model', `host ${p.host} cannot run CPU model ${cpu.model} for ${guest}`);
  }
}

/**
 * Plans a domain from a typed input on `host`: checks what can be checked before anything is
 * made (visibility, grants, free names, firmware, and the host-safety policy on the definition
 * without its new disks), and answers the steps that make it.
 */
export async function planDomain(
  ctx: GatewayContext,
  host: string,
  input: DomainInputValue,
  mutation: string,
): Promise<ProvisionPlan> {
  const c = await connectionOf(ctx, host);
  const p: Planner = { ctx, host, c, mutation };
  const type = input.virtType ?? (await preferredDomainType(ctx, host, input.arch ?? undefined));
  if (!type) throw invalidInput('domain.arch', `host ${host} cannot run ${input.arch ?? 'hvm'} guests`);
  if (input.virtType && !(await offeredDomainTypes(ctx, host, input.arch ?? undefined)).has(input.virtType)) {
    throw gatewayError(
      'UNSUPPORTED',
      `host ${host} offers no ${input.virtType} guests${input.arch ? ` for ${input.arch}` : ''}`,
      {
        host,
        field: 'domain.virtType',
      },
    );
  }
  await checkHostOffers(p, input, type);
  const disks = await planDisks(p, input.disks ?? []);
  // The UUID is chosen here when a seed needs it: cloud-init's instance-id is the domain's UUID.
  const uuid = input.cloudInit ? randomUUID() : undefined;
  const seed = uuid === undefined ? undefined : await seedDisk(p, input, uuid, disks);
  if (seed) disks.push(seed);
  const kernel = input.kernel
    ? {
        kernel: (await usableVolume(p, input.kernel.kernel, 'domain.kernel.kernel')).path,
        ...(input.kernel.initrd
          ? { initrd: (await usableVolume(p, input.kernel.initrd, 'domain.kernel.initrd')).path }
          : {}),
        ...(input.kernel.cmdline != null ? { cmdline: input.kernel.cmdline } : {}),
      }
    : undefined;
  // Once: each display's random password is the same in every document built below.
  const graphics = (input.graphics ?? []).map(graphicsSpec);
  const spec = (): DomainSpec => ({
    type: type as DomainType,
    name: input.name,
    ...(uuid !== undefined ? { uuid } : {}),
    description: input.description ?? undefined,
    vcpus: input.vcpus ?? 1,
    memoryKiB: input.memoryKiB ?? 524288n,
    arch: input.arch ?? undefined,
    machine: input.machine ?? undefined,
    boot: kernel ? undefined : ((input.bootDevices ?? ['hd']) as BootDevice[]),
    disks: disks.flatMap((d) => diskSpec(d) ?? []),
    interfaces: (input.interfaces ?? []).map((n) => ({
      type: n.kind as 'network' | 'bridge',
      source: n.source,
      mac: n.mac ?? undefined,
      model: n.model ?? 'virtio',
    })),
    graphics,
    serialConsole: input.serial === true,
    firmware: input.firmware
      ? { type: input.firmware.type as 'bios' | 'efi', secureBoot: input.firmware.secureBoot === true }
      : undefined,
    cpu: input.cpu ? { mode: input.cpu.mode as 'custom', model: input.cpu.model ?? undefined } : undefined,
    kernel,
  });
  // Everything but the new volumes' paths is known: what the policy refuses is refused before a volume is made.
  await checkBuiltXml(ctx, host, 'domain', 'domain', buildDomainXml(spec()));
  const steps: Step[] = disks.flatMap((d) => {
    const source = d.source;
    if ('path' in source) return [];
    return [
      {
        run: async () => {
          await checkBuiltXml(ctx, host, 'volume', d.field, source.volumeXml);
          source.made = await source.pool.createVolume(source.volumeXml);
          if (source.data) await fill(source.made, source.data);
        },
        undo: () => source.made?.delete() ?? Promise.resolve(),
      },
    ];
  });
  steps.push({ run: () => checkBuiltXml(ctx, host, 'domain', 'domain', buildDomainXml(spec())) });
  return { steps, xml: () => buildDomainXml(spec()) };
}
