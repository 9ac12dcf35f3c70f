import type { AuditRecord } from '../../audit/audit-record.ts';
import type { AuditContext } from '../../audit/use-audit.ts';
import { builder } from '../core/builder.ts';
import { gatewayError } from '../core/errors.ts';
import { IdentityKindEnum } from '../viewer/identity-kind.ts';

const AuditIdentity = builder.objectRef<AuditRecord['identity']>('AuditIdentity').implement({
  description: 'Who called.',
  fields: (t) => ({
    name: t.exposeString('name', { nullable: false, description: 'The token, certificate or JWT subject name.' }),
    kind: t.field({
      type: IdentityKindEnum,
      nullable: false,
      description: 'How it authenticated; ANONYMOUS when no identities are configured.',
      resolve: (i) => i.kind,
    }),
  }),
});

const AuditEvent = builder.objectRef<AuditRecord>('AuditEvent').implement({
  description: 'One mutation field as the gateway ran it.',
  fields: (t) => ({
    time: t.field({
      type: 'DateTime',
      nullable: false,
      description: 'When it started.',
      resolve: (r) => new Date(r.time),
    }),
    identity: t.field({
      type: AuditIdentity,
      nullable: false,
      description: 'Who did it.',
      resolve: (r) => r.identity,
    }),
    source: t.exposeString('source', {
      nullable: true,
      description: 'The peer address of the HTTP request or WebSocket.',
    }),
    host: t.exposeString('host', {
      nullable: false,
      description: 'The host it acted on: its host argument, or the default host.',
    }),
    operation: t.exposeString('operation', { nullable: false, description: 'The mutation field, e.g. suspendDomain.' }),
    arguments: t.string({
      nullable: false,
      description: 'Its arguments as a JSON object; XML bodies and secrets are reduced to { sha256, bytes }.',
      resolve: (r) => JSON.stringify(r.arguments),
    }),
    result: t.exposeString('result', {
      nullable: false,
      description: 'ok, or the error code the caller got (FORBIDDEN, NOT_FOUND, INVALID_STATE…).',
    }),
    durationMs: t.exposeFloat('durationMs', { nullable: false, description: 'How long it took, in milliseconds.' }),
  }),
});

builder.subscriptionFields((t) => ({
  auditEvents: t.field({
    type: AuditEvent,
    nullable: false,
    authScopes: { somewhere: { privilege: 'Sys.Audit' } },
    description:
      'Every mutation as it completes, on any host, from this gateway process; needs Sys.Audit. The same records go to the log (audit: true) and to audit.file.',
    subscribe: (_root, _args, ctx) => {
      const log = (ctx as AuditContext).audit;
      if (log === undefined) throw gatewayError('UNSUPPORTED', 'this gateway keeps no audit log');
      return log.subscribe();
    },
    resolve: (record) => record,
  }),
}));
