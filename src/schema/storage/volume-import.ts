import { z } from 'zod';
import { buildVolumeXml } from '../../libvirt/xml/volume-xml.ts';
import { parseRules, ruleFor, urlProblem } from '../../transfer/url-policy.ts';
import { importImage } from '../../transfer/volume-import.ts';
import type { TransferProgress } from '../../transfer/volume-transfers.ts';
import { diskFormat, volumeName } from '../../validation/index.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { gatewayError, invalidInput } from '../core/errors.ts';
import { checkBuiltXml } from '../core/host-safety.ts';
import { hostName } from '../core/hosts.ts';
import { fromInput, mutationInput } from '../core/mutation-support.ts';
import { OperationRef } from '../operations/operations.ts';
import { onPoolArg, pools } from './pool.ts';
import { allScopes, type TransferOperation } from './volume-transfer.ts';

/** Storage.Allocate and Storage.Use on the target pool (NOT_FOUND when the caller may not see it). */
function onImportPool() {
  const allocate = onPoolArg('Storage.Allocate', 'pool');
  const use = onPoolArg('Storage.Use', 'pool');
  return async (parent: unknown, args: { host?: string | null; pool: string }, ctx: GatewayContext) =>
    allScopes([await allocate(parent, args, ctx), await use(parent, args, ctx)]);
}

/** The URL as allowed by images.allowedUrls before anything is fetched (the fetch checks every hop again, with DNS). */
function checkedUrl(ctx: GatewayContext, given: string) {
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw invalidInput('url', 'not a URL');
  }
  const problems: string[] = [];
  const rules = parseRules(ctx.images ?? { allowedUrls: [], maxRedirects: 5, timeoutSeconds: 30 }, problems);
  const problem = urlProblem(url);
  if (problem) throw gatewayError('UNSAFE_INPUT', `url: ${problem}`, { field: 'url' });
  if (!ruleFor(url, rules)) {
    throw gatewayError('UNSAFE_INPUT', `url: ${url.origin} and its path are not under images.allowedUrls`, {
      field: 'url',
    });
  }
  return rules;
}

builder.mutationField('importVolume', (t) =>
  t.field({
    authScopes: fromInput(onImportPool()),
    type: OperationRef,
    description:
      'Fetches an http(s) image into a new volume of its size, as a tracked operation (transfer { bytesDone bytesTotal } on operationUpdated). Only URLs under the configuration’s images.allowedUrls, and their public addresses, are fetched, redirects included. A sha256 mismatch fails it; a failure or cancelOperation deletes the volume.',
    args: mutationInput('ImportVolume', {
      host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
      pool: t.arg.string({ required: true, description: 'The active pool to create the volume in.' }),
      name: t.arg.string({ required: true, description: 'The new volume’s name.', validate: volumeName }),
      url: t.arg.string({
        required: true,
        description: 'http or https, under images.allowedUrls.',
        validate: z.string().max(4096, 'must be at most 4096 characters'),
      }),
      format: t.arg.string({
        defaultValue: 'raw',
        description: 'The image’s format as the volume records it (raw, qcow2…). @default raw',
        validate: diskFormat,
      }),
      sha256: t.arg.string({
        description: 'The image’s sha256 (hex): a mismatch fails the import and deletes the volume.',
        validate: z.string().regex(/^[0-9a-fA-F]{64}$/, 'must be 64 hexadecimal digits'),
      }),
    }),
    resolve: async (_r, { input: args }, ctx) => {
      const h = hostName(ctx, args.host);
      const rules = checkedUrl(ctx, args.url);
      const pool = await pools.find(ctx, h, args.pool);
      if (!(await pool.object.isActive()))
        throw gatewayError('INVALID_STATE', `storage pool ${args.pool} is not active`);
      if ((await pool.object.volumes()).some((v) => v.name === args.name)) {
        throw invalidInput('name', `pool ${args.pool} already has a volume named ${args.name}`);
      }
      const format = args.format ?? 'raw';
      const volumeXml = async (capacityBytes: bigint) => {
        const xml = buildVolumeXml({ name: args.name, capacityBytes, allocationBytes: 0n, format });
        await checkBuiltXml(ctx, h, 'volume', 'format', xml);
        return xml;
      };
      const images = ctx.images;
      const stop = new AbortController();
      let progress: TransferProgress = { bytesDone: 0n, bytesTotal: null };
      let polled: bigint | undefined;
      const started = Date.now();
      const audit = (result: string, extra: Record<string, unknown>) =>
        ctx.transfers?.record({
          identity: { name: ctx.identity.name, kind: ctx.identity.kind },
          source: (ctx as { req?: { socket?: { remoteAddress?: string } } }).req?.socket?.remoteAddress ?? null,
          host: h,
          operation: 'volumeImportData',
          arguments: { pool: args.pool, name: args.name, url: args.url, ...extra },
          result,
          durationMs: Date.now() - started,
        });
      const operation = await ctx.operations.start({
        kind: 'VOLUME_IMPORT',
        owner: ctx.identity.key,
        host: h,
        run: async () => {
          try {
            const done = await importImage({
              pool: pool.object,
              url: args.url,
              volumeXml,
              format,
              ...(args.sha256 ? { sha256: args.sha256 } : {}),
              rules,
              maxRedirects: images?.maxRedirects ?? 5,
              timeoutMs: (images?.timeoutSeconds ?? 30) * 1000,
              signal: stop.signal,
              onProgress: (bytesDone, bytesTotal) => {
                progress = { bytesDone, bytesTotal };
              },
            });
            audit('ok', { bytes: String(done.bytes), sha256: done.sha256, from: done.url });
            return { bytes: done.bytes, sha256: done.sha256, offset: 0n, volumeKey: done.volume.key };
          } catch (e) {
            const code = (e as { extensions?: { code?: unknown } }).extensions?.code;
            audit(typeof code === 'string' ? code : 'LIBVIRT_ERROR', { bytes: String(progress.bytesDone) });
            throw e;
          }
        },
        poll: async () => {
          if (progress.bytesDone === polled) return undefined;
          polled = progress.bytesDone;
          return progress;
        },
        cancel: async () => stop.abort(),
      });
      return operation as unknown as TransferOperation as never;
    },
  }),
);
