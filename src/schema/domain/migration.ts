import { assertSafeClientUri, UriPartError } from '../../hosts/uri.ts';
import { Connection, type Domain, type MigrateFlag } from '../../libvirt/index.ts';
import { parseDomainXml } from '../../libvirt/xml/domain-xml.ts';
import { parseStoragePoolXml } from '../../libvirt/xml/storage-pool-xml.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { invalidInput } from '../core/errors.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { changed, clientMutationId, fromInput, payloadInput } from '../core/mutation-support.ts';
import { requireOnPool } from '../storage/pool-grants.ts';
import { DomainNode, DomainRef, type DomainRefValue, type DomainShape, DomainStateEnum, findDomain } from './domain.ts';

const UriParamInput = builder.inputType('UriParamInput', {
  description: 'One extra libvirt URI parameter, e.g. no_verify=1.',
  fields: (t) => ({
    name: t.string({ required: true, description: 'The parameter name, e.g. no_verify.' }),
    value: t.string({ required: true, description: 'Its value, e.g. 1.' }),
  }),
});

const UriPartsInput = builder.inputType('UriPartsInput', {
  description:
    'A libvirt URI by parts, with the gateway’s defaults (driver qemu, transport tls, host localhost, port by transport, path system). Parameters that run programs or read files on the gateway are refused unless the operator allows them.',
  fields: (t) => ({
    driver: t.string({ description: 'qemu, test…' }),
    transport: t.string({ description: 'tls, tcp, ssh, libssh2, libssh, unix.' }),
    host: t.string({ description: 'Hostname or IP address.' }),
    port: t.int({ description: '1–65535; the transport’s default when omitted.' }),
    path: t.string({ description: 'system or session for qemu.' }),
    username: t.string({ description: 'The user to connect as (ssh, or SASL).' }),
    params: t.field({ type: [UriParamInput], description: 'Extra parameters (no_verify, no_tty, sshauth…).' }),
  }),
});

const MigrationDestination = builder.inputType('MigrationDestinationInput', {
  description: 'Where to migrate: a host of the registry, or a URI by parts.',
  isOneOf: true,
  fields: (t) => ({
    host: t.string({ description: 'A registry host name.' }),
    uri: t.field({ type: UriPartsInput, description: 'A libvirt URI by parts.' }),
  }),
});

export interface Migrated {
  oldName: string;
  newName: string;
  uuid: string;
  state: string;
  sourceUri: string;
  destinationUri: string;
  sourceHostname: string;
  destinationHostname: string;
  domain?: DomainShape;
}

export const MigrationResult = builder.objectRef<Migrated>('MigrationResult').implement({
  description: 'A migrated domain: its identity and state on the destination, and both ends.',
  fields: (t) => ({
    clientMutationId: t.string(clientMutationId),
    oldName: t.exposeString('oldName', { nullable: false, description: 'Its name on the source.' }),
    newName: t.exposeString('newName', { nullable: false, description: 'Its name on the destination.' }),
    uuid: t.exposeString('uuid', { nullable: false, description: 'Unchanged by migration.' }),
    state: t.field({
      type: DomainStateEnum,
      nullable: false,
      description: 'Its state on the destination.',
      resolve: (m) => m.state as never,
    }),
    sourceUri: t.exposeString('sourceUri', { nullable: false, description: 'The source connection URI.' }),
    destinationUri: t.exposeString('destinationUri', {
      nullable: false,
      description: 'The destination connection URI.',
    }),
    sourceHostname: t.exposeString('sourceHostname', { nullable: false, description: 'The source host’s hostname.' }),
    destinationHostname: t.exposeString('destinationHostname', {
      nullable: false,
      description: 'The destination host’s hostname.',
    }),
    domain: t.field({
      type: DomainNode,
      description: 'The domain on the destination, when the destination is a registry host.',
      resolve: (m) => m.domain ?? null,
    }),
  }),
});

interface Destination {
  uri: string;
  connection: Connection;
  host?: string;
  close(): Promise<void>;
}

async function destinationOf(
  ctx: GatewayContext,
  dest: { host?: string | null; uri?: Record<string, unknown> | null },
): Promise<Destination> {
  if (dest.host != null) {
    const host = hostName(ctx, dest.host);
    return { uri: ctx.hosts.uri(host), connection: await connectionOf(ctx, host), host, close: async () => undefined };
  }
  const { params, ...parts } = dest.uri ?? {};
  const paramList = (params ?? []) as Array<{ name: string; value: string }>;
  let uri: string;
  try {
    uri = assertSafeClientUri(
      { ...parts, params: Object.fromEntries(paramList.map((p) => [p.name, p.value])) },
      { allowUnsafeParams: ctx.allowUnsafeClientUris ?? false },
    ).uri;
  } catch (e) {
    if (e instanceof UriPartError) throw invalidInput(`destination.uri.${e.field}`, e.reason);
    throw e;
  }
  const connection = await Connection.open(uri);
  return { uri, connection, close: () => connection.close() };
}

export interface MigrateArgs {
  host?: string | null;
  domain: DomainRefValue;
  destination: { host?: string | null; uri?: Record<string, unknown> | null };
  live: boolean;
  paused: boolean;
  persistDest: boolean;
  undefineSource: boolean;
  peer2peer: boolean;
  tunneled: boolean;
  unsafe: boolean;
  migrateUri?: string | null;
  newName?: string | null;
  bandwidthMiBs?: bigint | null;
  copyStorage?: 'ALL' | 'INCREMENTAL' | null;
  autoConverge: boolean;
  postcopy: boolean;
  postcopyBandwidthMiBs?: bigint | null;
}

const StorageCopy = builder.enumType('MigrationStorageCopy', {
  description: 'How a migration without shared storage copies the disks (QEMU’s NBD mirror).',
  values: {
    ALL: { description: 'Every block of each writable disk (virsh migrate --copy-storage-all).' },
    INCREMENTAL: {
      description:
        'Only what each disk’s top image holds, onto the same backing image already on the destination (--copy-storage-inc).',
    },
  } as const,
});

/** The arguments migrateDomain and startMigration share. */
export const migrationArgs = builder.args((t) => ({
  host: t.string({ description: 'Registry name of the source host; the default host when omitted.' }),
  domain: t.field({ type: DomainRef, required: true, description: 'The domain to move: by name, UUID or runtime id.' }),
  destination: t.field({ type: MigrationDestination, required: true, description: 'Where to move it.' }),
  live: t.boolean({ defaultValue: true, required: true, description: 'Keep the guest running. @default true' }),
  paused: t.boolean({ defaultValue: false, required: true, description: 'Leave it paused on the destination.' }),
  persistDest: t.boolean({ defaultValue: false, required: true, description: 'Define it on the destination.' }),
  undefineSource: t.boolean({ defaultValue: false, required: true, description: 'Undefine it on the source.' }),
  peer2peer: t.boolean({ defaultValue: false, required: true, description: 'Source daemon connects itself.' }),
  tunneled: t.boolean({
    defaultValue: false,
    required: true,
    description: 'Data through libvirtd (needs peer2peer).',
  }),
  unsafe: t.boolean({
    defaultValue: false,
    required: true,
    description: 'Allow it even where libvirt deems it unsafe (e.g. local disks without shared storage).',
  }),
  migrateUri: t.string({ description: 'Where QEMU sends the data, e.g. tcp://10.0.0.2.' }),
  newName: t.string({ description: 'A new name on the destination.' }),
  bandwidthMiBs: t.field({ type: 'BigInt', description: 'Bandwidth limit in MiB/s.' }),
  copyStorage: t.field({
    type: StorageCopy,
    description:
      'Copy the writable file disks too, for hosts without shared storage: libvirt creates each in the destination’s pool whose directory is the disk’s, which needs Storage.Allocate on that pool.',
  }),
  autoConverge: t.boolean({
    defaultValue: false,
    required: true,
    description:
      'Slow the guest’s vCPUs down when memory changes faster than it is copied (VIR_MIGRATE_AUTO_CONVERGE). @default false',
  }),
  postcopy: t.boolean({
    defaultValue: false,
    required: true,
    description:
      'Allow switching to post-copy (VIR_MIGRATE_POSTCOPY): switchMigrationToPostCopy then moves the guest to the destination at once and fetches its remaining memory from the source. After the switch a failure loses the guest: libvirt leaves it paused on the destination (POSTCOPY_FAILED). Live migrations only. @default false',
  }),
  postcopyBandwidthMiBs: t.field({
    type: 'BigInt',
    description: 'Bandwidth limit in MiB/s once switched to post-copy (needs postcopy); unlimited when omitted.',
  }),
}));

/**
 * The destination pools a copyStorage migration makes volumes in: for each writable file disk, the
 * destination's pool whose target path is the disk's directory (where libvirt creates the copy).
 * FORBIDDEN without Storage.Allocate and Storage.Use there; INVALID_INPUT when there is none.
 */
async function checkStorageCopy(ctx: GatewayContext, source: DomainShape, destHost: string): Promise<void> {
  const disks = parseDomainXml(await source.domain.xml()).disks.filter(
    (d) => d.device === 'disk' && !d.readonly && !d.shareable && (d.sourcePath !== undefined || d.type === 'volume'),
  );
  const pools = await (await connectionOf(ctx, destHost)).storagePools();
  const byPath = new Map<string, string>();
  for (const pool of pools) {
    const target = parseStoragePoolXml(await pool.xml()).targetPath;
    if (target !== undefined) byPath.set(target.replace(/\/+$/, ''), pool.name);
  }
  for (const disk of disks) {
    // A volume disk names its pool, which libvirt looks up by that name on the destination.
    const dir = disk.sourcePath?.replace(/\/[^/]*$/, '');
    const pool = disk.type === 'volume' ? disk.source.pool : dir === undefined ? undefined : byPath.get(dir);
    if (pool === undefined) {
      throw invalidInput(
        'copyStorage',
        `host ${destHost} has no storage pool at ${dir ?? '?'} for disk ${disk.target.dev}`,
      );
    }
    requireOnPool(
      ctx,
      destHost,
      pool,
      ['Storage.Allocate', 'Storage.Use'],
      'Mutation.migrateDomain',
      `the destination pool of disk ${disk.target.dev}`,
    );
  }
}

/**
 * VM.Migrate on the source domain and on the destination host (under its new name, if any). A
 * destination given as URI parts is outside what grants describe, so it needs Sys.Unsafe on the source host.
 */
export async function onMigration(_parent: unknown, args: MigrateArgs, ctx: GatewayContext) {
  const host = hostName(ctx, args.host);
  const { name } = (await findDomain(ctx, host, args.domain)).domain;
  const destination =
    args.destination.host != null
      ? { privilege: 'VM.Migrate' as const, host: hostName(ctx, args.destination.host), domain: args.newName ?? name }
      : { privilege: 'Sys.Unsafe' as const, host };
  return {
    $all: { privilege: { privilege: 'VM.Migrate' as const, host, domain: name }, $all: { privilege: destination } },
  };
}

/** Resolves the source and checks the arguments; returns a function that runs the migration. */
export async function prepareMigration(
  ctx: GatewayContext,
  args: MigrateArgs,
): Promise<{ source: DomainShape; run: () => Promise<Migrated> }> {
  if (args.tunneled && !args.peer2peer) throw invalidInput('tunneled', 'needs peer2peer');
  if (args.postcopy && !args.live) throw invalidInput('postcopy', 'needs a live migration');
  if (args.postcopyBandwidthMiBs != null && !args.postcopy)
    throw invalidInput('postcopyBandwidthMiBs', 'needs postcopy');
  const host = hostName(ctx, args.host);
  const source = await findDomain(ctx, host, args.domain);
  // A destination given as URI parts took Sys.Unsafe, which the grants do not narrow.
  if (args.copyStorage != null && args.destination.host != null) {
    await checkStorageCopy(ctx, source, hostName(ctx, args.destination.host));
  }
  const dest = await destinationOf(ctx, args.destination);
  const run = async (): Promise<Migrated> => {
    try {
      const flags: MigrateFlag[] = [];
      if (args.live) flags.push('LIVE');
      if (args.paused) flags.push('PAUSED');
      if (args.persistDest) flags.push('PERSIST_DEST');
      if (args.undefineSource) flags.push('UNDEFINE_SOURCE');
      if (args.peer2peer) flags.push('PEER2PEER');
      if (args.tunneled) flags.push('TUNNELLED');
      if (args.unsafe) flags.push('UNSAFE');
      if (args.copyStorage === 'ALL') flags.push('NON_SHARED_DISK');
      if (args.copyStorage === 'INCREMENTAL') flags.push('NON_SHARED_INC');
      if (args.autoConverge) flags.push('AUTO_CONVERGE');
      if (args.postcopy) flags.push('POSTCOPY');
      const options = {
        flags,
        migrateUri: args.migrateUri ?? undefined,
        destinationName: args.newName ?? undefined,
        bandwidthMiBs: args.bandwidthMiBs ?? undefined,
        postcopyBandwidthMiBs: args.postcopyBandwidthMiBs ?? undefined,
      };
      const src = source.domain;
      let moved: Domain;
      if (args.peer2peer) {
        await src.migrateToUri(dest.uri, options);
        moved = await dest.connection.domainByUuid(src.uuid);
      } else {
        moved = await src.migrate(dest.connection, options);
      }
      changed(ctx);
      const [state, sourceUri, destinationUri, sourceHostname, destinationHostname] = await Promise.all([
        moved.state(),
        src.connection.canonicalUri(),
        dest.connection.canonicalUri(),
        src.connection.hostname(),
        dest.connection.hostname(),
      ]);
      return {
        oldName: src.name,
        newName: moved.name,
        uuid: moved.uuid,
        state: state.state,
        sourceUri,
        destinationUri,
        sourceHostname,
        destinationHostname,
        ...(dest.host ? { domain: { host: dest.host, domain: moved } } : {}),
      };
    } finally {
      await dest.close();
    }
  };
  return { source, run };
}

builder.mutationFields((t) => ({
  migrateDomain: t.field({
    type: MigrationResult,
    description:
      'Migrates a domain to another host and answers when it is done. Client-managed by default (the gateway drives both connections); with peer2peer the source daemon connects to the destination itself. startMigration does the same as a tracked operation.',
    args: payloadInput('MigrateDomain', migrationArgs),
    authScopes: fromInput(onMigration),
    resolve: async (_r, { input: args }, ctx) => (await prepareMigration(ctx, args)).run(),
  }),
}));
