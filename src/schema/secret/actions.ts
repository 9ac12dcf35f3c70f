import { Secret } from '../../libvirt/index.ts';
import { buildSecretXml } from '../../libvirt/xml/secret-xml.ts';
import { secretDescription, secretUsageInput } from '../../validation/index.ts';
import { onHostArg } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import { holdsSecret, refusedAs } from '../core/errors.ts';
import { safeClientPath } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import {
  changed,
  fromInput,
  globalIdOf,
  mutationInput,
  payloadInput,
  RemovedObject,
} from '../core/mutation-support.ts';
import { findSecret, SecretNode, SecretRef, SecretUsageType, secrets } from './secret.ts';
import { SecretValueEncoding, SecretValueScalar, secretBytes } from './secret-value.ts';

const SecretUsageInput = builder.inputType('SecretUsageInput', {
  description:
    'What a new secret is for: its type and the one field that type needs (volume for VOLUME, target for ISCSI, name for CEPH, TLS and VTPM; none for NONE).',
  fields: (t) => ({
    type: t.field({ type: SecretUsageType, required: true, description: 'What the secret is for.' }),
    volume: t.string({
      description: 'VOLUME: the encrypted volume’s path; it must be storage the caller may use (Storage.Use).',
    }),
    target: t.string({ description: 'ISCSI: the target (IQN) the CHAP secret is for.' }),
    name: t.string({ description: 'CEPH, TLS, VTPM: a name of the caller’s choosing, unique per type on the host.' }),
  }),
  validate: secretUsageInput,
});

// graphql-js would repeat a variable of this type (value included) in its coercion errors.
holdsSecret('SetSecretValueInput');

builder.mutationFields((t) => {
  const host = t.arg.string({ description: 'Registry name of the host; the default host when omitted.' });
  const secretArg = () => t.arg({ type: SecretRef, required: true, description: 'The secret: by global ID or UUID.' });
  return {
    defineSecret: t.field({
      authScopes: fromInput(onHostArg('Sys.Secrets')),
      type: SecretNode,
      description:
        'Defines a secret (virSecretDefineXML) without a value; libvirt picks its UUID, so no existing secret is redefined. Set its value with setSecretValue.',
      args: mutationInput('DefineSecret', {
        host,
        usage: t.arg({ type: SecretUsageInput, required: true, description: 'What the secret is for.' }),
        description: t.arg.string({ description: 'Free text.', validate: secretDescription }),
        ephemeral: t.arg.boolean({
          defaultValue: false,
          required: true,
          description: 'Keep it in the daemon’s memory only, never on disk. @default false',
        }),
        private: t.arg.boolean({
          defaultValue: true,
          required: true,
          description: 'libvirt never reveals its value to any client. @default true',
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, args.host);
        const { usage } = args;
        // A volume's passphrase names storage: only storage the caller may use (the host-safety policy and Storage.Use).
        if (usage.type === 'volume' && usage.volume != null) await safeClientPath(ctx, h, 'usage.volume', usage.volume);
        const xml = buildSecretXml({
          usage: { type: usage.type, id: usage.volume ?? usage.target ?? usage.name ?? undefined },
          description: args.description ?? undefined,
          ephemeral: args.ephemeral,
          private: args.private,
        });
        const c = await connectionOf(ctx, h);
        const defined = await refusedAs('usage', Secret.define(c, xml));
        changed(ctx);
        return secrets.find(ctx, h, defined.uuid);
      },
    }),
    setSecretValue: t.field({
      authScopes: fromInput(onHostArg('Sys.Secrets')),
      type: SecretNode,
      description:
        'Sets a secret’s value (virSecretSetValue). The value can never be read back through the gateway; it is not logged, audited or repeated in any error.',
      args: mutationInput('SetSecretValue', {
        host,
        secret: secretArg(),
        value: t.arg({ type: SecretValueScalar, required: true, description: 'The value: text or base64.' }),
        encoding: t.arg({
          type: SecretValueEncoding,
          defaultValue: 'TEXT',
          required: true,
          description: 'How `value` is written. @default TEXT',
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, args.host);
        const bytes = secretBytes(args.value, args.encoding, 'value');
        try {
          const s = await findSecret(ctx, h, args.secret);
          await s.object.setValue(bytes);
        } finally {
          bytes.fill(0);
        }
        changed(ctx);
        return findSecret(ctx, h, args.secret);
      },
    }),
    undefineSecret: t.field({
      authScopes: fromInput(onHostArg('Sys.Secrets')),
      type: RemovedObject,
      description: 'Removes a secret and its value (virSecretUndefine).',
      args: payloadInput('UndefineSecret', { host, secret: secretArg() }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, args.host);
        const s = await findSecret(ctx, h, args.secret);
        await s.object.undefine();
        changed(ctx);
        return {
          host: h,
          name: s.object.usageId || s.object.uuid,
          uuid: s.object.uuid,
          deletedId: globalIdOf('Secret', h, s.object.uuid),
        };
      },
    }),
  };
});
