import type { IncomingMessage } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Privilege } from '../../auth/privileges.ts';
import type { Operation } from '../../operations/operation-tracker.ts';
import type { TransferDirection, TransferProgress, TransferResult } from '../../transfer/volume-transfers.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { describedEnum } from '../core/enum-types.ts';
import { gatewayError, invalidInput } from '../core/errors.ts';
import { hostName } from '../core/hosts.ts';
import { clientMutationId, fromInput, impliedHostOf, payloadInput } from '../core/mutation-support.ts';
import { OperationRef } from '../operations/operations.ts';
import { findVolume, poolOf, VolumeNode, VolumeRef, type VolumeShape } from './volume.ts';

interface RequestContext {
  request?: Request;
  req?: IncomingMessage;
}

/** An operation of uploadVolume, downloadVolume or importVolume. */
export type TransferOperation = Operation<TransferProgress, TransferResult & { volumeKey?: string }>;

export const TRANSFER_KINDS = ['VOLUME_UPLOAD', 'VOLUME_DOWNLOAD', 'VOLUME_IMPORT'];

type VolumeRefValue = { id?: string | null; path?: string | null; key?: string | null };

/** Scopes requiring every one of `scopes`. */
export function allScopes<S extends object>(scopes: S[]): object {
  return scopes.reduceRight<object | undefined>(
    (inner, s) => (inner ? { $all: { ...s, $all: inner } } : s),
    undefined,
  ) as object;
}

/** authScopes: each privilege on the pool of the volume `volume` names (NOT_FOUND when the caller may not see it). */
function onVolumePool(privileges: Privilege[]) {
  return async (_parent: unknown, args: { host?: string | null; volume: VolumeRefValue }, ctx: GatewayContext) => {
    const host = hostName(ctx, impliedHostOf(args.host, args.volume));
    const s = await findVolume(ctx, host, args.volume);
    const pool = (await poolOf(ctx, s)).object.name;
    return allScopes(privileges.map((privilege) => ({ privilege: { privilege, host, pool } })));
  };
}

/** What Operation.transfer shows: bytes so far (or in the end), the digest, where to resume. */
interface TransferState {
  host?: string;
  bytesDone: bigint;
  bytesTotal: bigint | null;
  sha256: string | null;
  resumeOffset: bigint | null;
  volumeKey: string | null;
}

function stateOf(o: TransferOperation): TransferState {
  const ext = o.error instanceof GraphQLError ? o.error.extensions : {};
  const written = typeof ext.bytesWritten === 'string' ? BigInt(ext.bytesWritten) : undefined;
  return {
    ...(o.host === undefined ? {} : { host: o.host }),
    bytesDone: o.result?.bytes ?? written ?? o.progress?.bytesDone ?? 0n,
    bytesTotal: o.progress?.bytesTotal ?? o.result?.bytes ?? null,
    sha256: o.result?.sha256 ?? null,
    resumeOffset: typeof ext.resumeOffset === 'string' ? BigInt(ext.resumeOffset) : null,
    volumeKey: o.result?.volumeKey ?? null,
  };
}

const TransferStateRef = builder.objectRef<TransferState>('VolumeTransferProgress').implement({
  description: 'Bytes through a volume upload, download or import.',
  fields: (t) => ({
    bytesDone: t.field({
      type: 'BigInt',
      nullable: false,
      description: 'Bytes written into (or sent from) the volume so far; in the end, all of them.',
      resolve: (s) => s.bytesDone,
    }),
    bytesTotal: t.field({
      type: 'BigInt',
      description: 'Bytes the transfer will move, when known.',
      resolve: (s) => s.bytesTotal,
    }),
    sha256: t.string({
      description: 'Once COMPLETED: the sha256 (hex) of the bytes that went through the HTTP body.',
      resolve: (s) => s.sha256,
    }),
    resumeOffset: t.field({
      type: 'BigInt',
      description:
        'After a cut connection (INTERRUPTED): the volume offset to resume from, with a new uploadVolume or downloadVolume.',
      resolve: (s) => s.resumeOffset,
    }),
    volume: t.field({
      type: VolumeNode,
      description: 'The imported volume, once an import COMPLETED.',
      resolve: (s, _a, ctx) =>
        s.volumeKey && s.host ? findVolume(ctx, s.host, { key: s.volumeKey }).catch(() => null) : null,
    }),
  }),
});

builder.objectField(OperationRef, 'transfer', (t) =>
  t.field({
    type: TransferStateRef,
    description: 'Bytes through a VOLUME_UPLOAD, VOLUME_DOWNLOAD or VOLUME_IMPORT.',
    resolve: (o) => (TRANSFER_KINDS.includes(o.kind) ? stateOf(o as unknown as TransferOperation) : null),
  }),
);

interface IssuedShape {
  url: string;
  path: string;
  method: 'PUT' | 'GET';
  expiresAt: Date;
  operation: TransferOperation;
}

const TransferMethod = describedEnum('TransferMethod', 'The HTTP method a volume transfer URL takes.', {
  PUT: 'Upload: send the bytes as the request body.',
  GET: 'Download: read the bytes from the response (Range for a part).',
});

const VolumeTransferRef = builder.objectRef<IssuedShape>('VolumeTransfer').implement({
  description:
    'A single-use URL for a volume’s data, for the identity that asked: send the same credentials with the request. Follow the operation for bytes and the outcome.',
  fields: (t) => ({
    clientMutationId: t.string(clientMutationId),
    url: t.exposeString('url', {
      nullable: false,
      description: 'Where to send the request (the gateway’s address as this request reached it).',
    }),
    path: t.exposeString('path', { nullable: false, description: 'The URL’s path, for clients behind a proxy.' }),
    method: t.field({
      type: TransferMethod,
      nullable: false,
      description: 'The HTTP method to send: PUT to upload, GET to download.',
      resolve: (i) => i.method,
    }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: false,
      description: 'After this the URL is refused if unused.',
      resolve: (s) => s.expiresAt,
    }),
    operation: t.field({
      type: OperationRef,
      nullable: false,
      description: 'The tracked operation: RUNNING until the request ends; transfer { bytesDone } as it goes.',
      resolve: (s) => s.operation as never,
    }),
  }),
});

function urlOf(ctx: GatewayContext & RequestContext, path: string): string {
  if (ctx.request?.url) return new URL(path, ctx.request.url).href;
  const host = ctx.req?.headers.host;
  if (!host) return path;
  const secure = (ctx.req?.socket as { encrypted?: boolean } | undefined)?.encrypted === true;
  return `${secure ? 'https' : 'http'}://${host}${path}`;
}

/** The window [offset, offset + length) inside the volume; length 0 or omitted: to its end. */
function windowOf(offset: bigint, length: bigint | null | undefined, size: bigint, sizeName: string) {
  if (offset < 0n) throw invalidInput('offset', 'must not be negative');
  if (offset >= size) throw invalidInput('offset', `must be below the volume’s ${sizeName} (${size} bytes)`);
  const rest = size - offset;
  if (length == null || length === 0n) return { offset, length: rest };
  if (length < 0n) throw invalidInput('length', 'must not be negative');
  if (length > rest)
    throw invalidInput('length', `goes past the volume’s end: at most ${rest} bytes from offset ${offset}`);
  return { offset, length };
}

/** Starts the operation a transfer URL's request will run. */
export async function startTransfer(
  ctx: GatewayContext & RequestContext,
  s: VolumeShape,
  direction: TransferDirection,
  args: { offset?: bigint | null; length?: bigint | null; sparse?: boolean | null },
): Promise<IssuedShape> {
  const transfers = ctx.transfers;
  if (!transfers) throw gatewayError('UNSUPPORTED', 'this gateway serves no volume transfers');
  const capacity = (await s.object.info()).capacityBytes;
  // A download reads the file as it is (a qcow2's header, tables and clusters), not the guest's view:
  // its window ends at the file's size. Where the driver cannot tell, the capacity stands in.
  const size = direction === 'DOWNLOAD' ? await s.object.physicalBytes().catch(() => capacity) : capacity;
  const window = windowOf(args.offset ?? 0n, args.length, size, size === capacity ? 'capacity' : 'file size');
  const issued = await transfers.issue({
    direction,
    identityKey: ctx.identity.key,
    identityName: ctx.identity.name,
    identityKind: ctx.identity.kind,
    host: s.host,
    volumeKey: s.object.key,
    volumePath: s.object.path,
    ...window,
    capacity,
    sparse: args.sparse ?? false,
    source: ctx.req?.socket?.remoteAddress ?? null,
  });
  let last: bigint | undefined;
  const operation = (await ctx.operations.start({
    kind: direction === 'UPLOAD' ? 'VOLUME_UPLOAD' : 'VOLUME_DOWNLOAD',
    owner: ctx.identity.key,
    host: s.host,
    run: () => issued.done,
    poll: async () => {
      const p = issued.progress();
      if (p.bytesDone === last) return undefined;
      last = p.bytesDone;
      return p;
    },
    cancel: () => issued.cancel(),
  })) as unknown as TransferOperation;
  return {
    url: urlOf(ctx, issued.path),
    path: issued.path,
    method: direction === 'UPLOAD' ? 'PUT' : 'GET',
    expiresAt: issued.expiresAt,
    operation,
  };
}

builder.mutationFields((t) => {
  const host = t.arg.string({ description: 'Registry name of the host; the default host when omitted.' });
  const volume = t.arg({ type: VolumeRef, required: true, description: 'The volume, by global ID, path or key.' });
  const offset = t.arg({
    type: 'BigInt',
    defaultValue: 0n,
    description:
      'Where in the volume the data starts, in bytes (a resume passes the operation’s resumeOffset). @default 0',
  });
  const length = t.arg({
    type: 'BigInt',
    description: 'How many bytes at most; up to the volume’s end when omitted or 0.',
  });
  return {
    uploadVolume: t.field({
      authScopes: fromInput(onVolumePool(['Storage.Allocate', 'Storage.Use'])),
      type: VolumeTransferRef,
      description:
        'A single-use URL to PUT a volume’s data to (virStorageVolUpload), from offset on: the body is streamed into libvirt as it arrives, with backpressure. A cut connection keeps what arrived and the operation fails INTERRUPTED with resumeOffset.',
      args: payloadInput('UploadVolume', {
        host,
        volume,
        offset,
        length,
        sparse: t.arg.boolean({
          defaultValue: false,
          description:
            'Send zero runs of 64 KiB or more as holes (libvirt’s sparse stream): fast, but the daemon seeks over a hole, so what the volume held there stays. For a new or zeroed volume only. @default false',
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, impliedHostOf(args.host, args.volume));
        return startTransfer(ctx, await findVolume(ctx, h, args.volume), 'UPLOAD', args);
      },
    }),
    downloadVolume: t.field({
      authScopes: fromInput(onVolumePool(['Storage.Allocate', 'Storage.Use', 'Storage.Audit'])),
      type: VolumeTransferRef,
      description:
        'A single-use URL to GET a volume’s data from (virStorageVolDownload, sparse): holes are not read from the disk, and leave as zeros. A Range header is answered with 206 and Content-Range.',
      args: payloadInput('DownloadVolume', { host, volume, offset, length }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, impliedHostOf(args.host, args.volume));
        return startTransfer(ctx, await findVolume(ctx, h, args.volume), 'DOWNLOAD', args);
      },
    }),
  };
});
