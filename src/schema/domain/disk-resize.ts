import { builder } from '../core/builder.ts';
import { invalidInput } from '../core/errors.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { changed, fromInput, mutationInput } from '../core/mutation-support.ts';
import { diskOf, diskVolume } from './disk-volume.ts';
import { DomainNode, DomainRef, findDomain, onDomainArg } from './domain.ts';
import { exclusively, reread } from './lifecycle.ts';

builder.mutationFields((t) => ({
  resizeDomainDisk: t.field({
    authScopes: fromInput(onDomainArg('VM.Config')),
    type: DomainNode,
    description:
      'Grows a disk to capacityBytes. A running domain’s guest sees the new size at once (virDomainBlockResize); a stopped domain’s volume is resized (virStorageVolResize). Shrinking is refused. Returns the domain.',
    args: mutationInput('ResizeDomainDisk', {
      host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
      domain: t.arg({ type: DomainRef, required: true, description: 'The domain: by name, UUID or runtime id.' }),
      disk: t.arg.string({ required: true, description: 'The disk’s guest target, e.g. vda.' }),
      capacityBytes: t.arg({
        type: 'BigInt',
        required: true,
        description: 'The new size in bytes: at least the current one, a multiple of 512.',
      }),
    }),
    resolve: async (_r, { input: args }, ctx) => {
      const host = hostName(ctx, args.host);
      const s = await findDomain(ctx, host, args.domain);
      const disk = await diskOf(host, s.domain, args.disk);
      const { volume } = await diskVolume(
        ctx,
        host,
        await connectionOf(ctx, host),
        disk,
        ['Storage.Use'],
        'Mutation.resizeDomainDisk',
      );
      const bytes = args.capacityBytes;
      if (bytes % 512n !== 0n) throw invalidInput('capacityBytes', 'must be a multiple of 512');
      const current = (await volume.info()).capacityBytes;
      if (bytes < current) {
        throw invalidInput('capacityBytes', `${bytes} is smaller than the disk’s ${current} bytes; disks only grow`);
      }
      await exclusively(ctx, s, async () => {
        if (await s.domain.isActive()) await s.domain.blockResize(disk.target.dev, bytes);
        else await volume.resize(bytes);
      });
      changed(ctx);
      return reread(ctx, host, s.domain);
    },
  }),
}));
