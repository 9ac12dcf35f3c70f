import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { gatewayError, invalidInput } from '../core/errors.ts';
import { changed, clientMutationId, fromInput, payloadInput } from '../core/mutation-support.ts';
import { findDomain } from '../domain/domain.ts';
import { find, type MigrationOperation, OperationRef, whenJobStarted } from './operations.ts';

interface PostCopySwitch {
  operation: MigrationOperation;
}

const PostCopySwitchPayload = builder.objectRef<PostCopySwitch>('SwitchMigrationToPostCopyPayload').implement({
  description: 'The migration that was asked to switch to post-copy.',
  fields: (t) => ({
    clientMutationId: t.string(clientMutationId),
    operation: t.field({
      type: OperationRef,
      nullable: false,
      description:
        'The migration now: its progress shows postCopy once the source has switched; it then ends as COMPLETED, or FAILED with the guest paused on the destination.',
      resolve: (p) => p.operation,
    }),
  }),
});

const args = builder.args((t) => ({
  operation: t.id({
    required: true,
    description: 'The migration: the global ID startMigration answered (its `id`).',
  }),
}));

/**
 * VM.Migrate on the migrated domain (post-copy is a migration privilege, operations.md wave 3), and,
 * like cancelOperation, being the identity that started it or holding Sys.Audit.
 */
async function onPostCopy(_parent: unknown, input: { operation: string | number }, ctx: GatewayContext) {
  const op = await find(ctx.operations, String(input.operation));
  const follow = op.owner === ctx.identity.key ? {} : { somewhere: { privilege: 'Sys.Audit' as const } };
  const domain = op.kind === 'MIGRATION' ? op.details?.domain : undefined;
  if (op.host === undefined || typeof domain !== 'string') return op.owner === ctx.identity.key || follow;
  return { $all: { privilege: { privilege: 'VM.Migrate' as const, host: op.host, domain }, ...follow } };
}

builder.mutationFields((t) => ({
  switchMigrationToPostCopy: t.field({
    type: PostCopySwitchPayload,
    description:
      'Switches a running migration started with postcopy to post-copy (virDomainMigrateStartPostCopy): the guest resumes on the destination at once and pulls the memory not yet copied from the source, so the migration ends however fast the guest writes. From then on the guest’s state is split between both hosts: if the migration fails (network, either daemon), libvirt leaves the guest paused on the destination (POSTCOPY_FAILED) and it is lost.',
    args: payloadInput('SwitchMigrationToPostCopy', args),
    authScopes: fromInput(onPostCopy),
    resolve: async (_r, { input }, ctx) => {
      const op = await find(ctx.operations, String(input.operation));
      if (op.kind !== 'MIGRATION') {
        throw invalidInput('operation', `operation ${op.id} is a ${op.kind} operation, not a migration`);
      }
      if (op.status !== 'RUNNING') {
        throw gatewayError('INVALID_STATE', `operation ${op.id} is ${op.status}; only a running migration switches`, {
          field: 'operation',
          status: op.status,
        });
      }
      const { uuid, postcopy } = op.details ?? {};
      if (postcopy !== true || typeof uuid !== 'string' || op.host === undefined) {
        throw invalidInput('operation', `migration ${op.id} was not started with postcopy: true`);
      }
      const source = await findDomain(ctx, op.host, { uuid });
      await whenJobStarted(
        () => source.domain.startPostCopy(),
        async () => (await ctx.operations.get(op.id))?.status === 'RUNNING',
      );
      changed(ctx);
      return { operation: ((await ctx.operations.get(op.id)) ?? op) as MigrationOperation };
    },
  }),
}));
