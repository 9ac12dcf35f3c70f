import { Secret } from '../../libvirt/index.ts';
import { parseSecretXml } from '../../libvirt/xml/secret-xml.ts';
import { secretUuid } from '../../validation/index.ts';
import { onParentHost } from '../core/auth-scopes.ts';
import { builder, keyOfGlobalId } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { lowerCaseEnum } from '../core/enum-types.ts';
import { invalidInput } from '../core/errors.ts';
import { Host } from '../core/hosts.ts';
import { objectCache, type Shaped } from '../core/object-cache.ts';
import { hostKey } from '../core/request-cache.ts';

// libvirt's secrets: passphrases and keys for encrypted volumes, Ceph, iSCSI, TLS and vTPM. Every
// read and change needs Sys.Secrets; a value can be set (actions.ts), never read back.

export type SecretShape = Shaped<Secret>;

export const secrets = objectCache<Secret>({
  kind: 'secret',
  audit: 'Sys.Secrets',
  list: (c) => Secret.list(c),
  key: (s) => s.uuid,
  xmlMany: (list) => Secret.xmlMany(list),
});

export const SecretUsageType = lowerCaseEnum('SecretUsageType', 'What a secret is for (<usage type>).', {
  NONE: 'No usage: found by UUID only.',
  VOLUME: 'The passphrase of an encrypted volume, named by its path.',
  CEPH: 'A Ceph (RBD) user’s key, named by a free-form name.',
  ISCSI: 'An iSCSI CHAP secret, named by its target.',
  TLS: 'The passphrase of a TLS key (e.g. for QEMU’s TLS), named by a free-form name.',
  VTPM: 'The secret of an emulated TPM’s state, named by a free-form name.',
});

const definition = async (ctx: GatewayContext, s: SecretShape) => parseSecretXml(await secrets.xml(ctx, s));

export const SecretNode = builder.loadableNodeRef('Secret', {
  id: { resolve: (s: SecretShape) => hostKey(s.host, s.object.uuid) },
  load: secrets.load,
});

SecretNode.implement({
  description:
    'A libvirt secret (virsh secret-list). Its value is write-only: setSecretValue sets it, and no field, error or audit record ever shows it.',
  fields: (t) => ({
    host: t.field({
      type: Host,
      nullable: false,
      description: 'The host it is on.',
      resolve: (s) => ({ name: s.host }),
    }),
    uuid: t.string({
      nullable: false,
      description: 'Its UUID: its identity on the host.',
      resolve: (s) => s.object.uuid,
    }),
    usageType: t.field({
      type: SecretUsageType,
      description: 'What it is for; null for a usage this gateway does not know.',
      resolve: (s) => {
        const type = s.object.usageType.toLowerCase();
        return type === 'unknown' ? null : (type as 'none' | 'volume' | 'ceph' | 'iscsi' | 'tls' | 'vtpm');
      },
    }),
    usageId: t.string({
      description: 'What its usage names: the volume’s path, the iSCSI target or the name; null for NONE.',
      resolve: (s) => s.object.usageId || null,
    }),
    description: t.string({
      description: 'Its free-text description.',
      resolve: async (s, _a, ctx) => (await definition(ctx, s)).description ?? null,
    }),
    ephemeral: t.boolean({
      description: 'Kept in the daemon’s memory only, never on the host’s disk.',
      resolve: async (s, _a, ctx) => (await definition(ctx, s)).ephemeral,
    }),
    private: t.boolean({
      description: 'libvirt never reveals its value to any client (the gateway never asks for it either way).',
      resolve: async (s, _a, ctx) => (await definition(ctx, s)).private,
    }),
  }),
});

export const SecretRef = builder.inputType('SecretRef', {
  description: 'One secret by exactly one of its global ID or UUID.',
  isOneOf: true,
  // Only an id: the audit record keeps it readable, although the argument is named `secret`.
  extensions: { auditPlain: true },
  fields: (t) => ({
    id: t.id({ description: 'The global ID, as `Secret.id` gives it; of this host.' }),
    uuid: t.string({ description: 'Its UUID.' }),
  }),
});

/** The secret a SecretRef names (NOT_FOUND when there is none, or when the caller may not see secrets). */
export function findSecret(
  ctx: GatewayContext,
  host: string,
  ref: { id?: string | number | null; uuid?: string | null },
  field = 'secret',
): Promise<SecretShape> {
  if (ref.id != null) return secrets.find(ctx, host, keyOfGlobalId(String(ref.id), 'Secret', host, `${field}.id`));
  if (ref.uuid == null) throw invalidInput(field, 'give exactly one of id or uuid');
  const checked = secretUuid.safeParse(ref.uuid);
  if (!checked.success) throw invalidInput(`${field}.uuid`, checked.error.issues[0]?.message ?? 'must be a UUID');
  return secrets.find(ctx, host, ref.uuid.toLowerCase());
}

builder.objectFields(Host, (t) => ({
  secrets: t.field({
    authScopes: onParentHost('Sys.Secrets'),
    type: [SecretNode],
    description: 'The host’s secrets (virConnectListAllSecrets): their usage and flags, never their values.',
    resolve: (h, _a, ctx) => secrets.all(ctx, h.name),
  }),
  secret: t.field({
    authScopes: onParentHost('Sys.Secrets'),
    type: SecretNode,
    description: 'One secret by global ID or UUID; a NOT_FOUND error when there is none.',
    args: { ref: t.arg({ type: SecretRef, required: true, description: 'The secret: by global ID or UUID.' }) },
    resolve: (h, args, ctx) => findSecret(ctx, h.name, args.ref, 'ref'),
  }),
}));
