import { changedSections, configDigest, keepDisplayPasswords } from '../../libvirt/xml/domain-changes.ts';
import { buildXml, element, parseRoot, type XmlElement } from '../../libvirt/xml/xml-codec.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { gatewayError, invalidInput } from '../core/errors.ts';
import { checkHostSafety, parsedClientXml } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { clientMutationId, fromInput, payloadInput } from '../core/mutation-support.ts';
import { DomainNode, DomainRef, type DomainShape, domainXml, findDomain, onDomainArg } from './domain.ts';
import { exclusively, reread } from './lifecycle.ts';

/** What a change of a domain's persistent definition answers: before, after, and what waits for a boot. */
export interface ConfigChange {
  domain: DomainShape;
  previousXml: string;
  xml: string;
  /** Parts of the definition that changed while the domain ran: they apply from its next boot. */
  pendingRestart: string[];
}

export const ConfigChangeResult = builder.objectRef<ConfigChange>('ConfigureDomainResult').implement({
  description: 'The persistent definition before and after configureDomain or updateDomain.',
  fields: (t) => ({
    clientMutationId: t.string(clientMutationId),
    domain: t.field({ type: DomainNode, nullable: false, resolve: (r) => r.domain, description: 'The domain now.' }),
    previousXml: t.exposeString('previousXml', { nullable: false, description: 'The definition before the change.' }),
    xml: t.exposeString('xml', { nullable: false, description: 'The persistent definition now.' }),
    configDigest: t.string({
      nullable: false,
      description: 'The digest of the persistent definition now: the expectedDigest of the next change.',
      resolve: (r) => configDigest(r.xml),
    }),
    pendingRestart: t.exposeStringList('pendingRestart', {
      nullable: false,
      description:
        'The parts of the definition that changed while the domain was running (`vcpu`, `memory`, `devices/disk[vdb]`…): the running guest keeps the old ones until its next boot. Empty for a stopped domain.',
    }),
  }),
});

builder.objectField(DomainNode, 'configDigest', (t) =>
  t.string({
    description:
      'A digest of the persistent definition (what the next start uses): pass it as expectedDigest to updateDomain or configureDomain, which refuse with CONFLICT when the definition changed since it was read.',
    resolve: async (s, _a, ctx) => configDigest(await domainXml(ctx, s, true)),
  }),
);

/**
 * Redefines a domain from `edit(current)` under its lock: CONFLICT when `expectedDigest` is given
 * and the definition moved, the host-safety policy on what the new definition adds, then define.
 */
export async function changeDefinition(
  ctx: GatewayContext,
  s: DomainShape,
  expectedDigest: string | null | undefined,
  field: string,
  edit: (current: string) => XmlElement,
): Promise<ConfigChange> {
  return exclusively(ctx, s, async () => {
    const previousXml = await s.domain.xml({ inactive: true });
    if (expectedDigest != null && configDigest(previousXml) !== expectedDigest) {
      throw gatewayError(
        'CONFLICT',
        `the definition of domain ${s.domain.name} changed since it was read; read configDigest again`,
        { host: s.host, field: 'expectedDigest' },
      );
    }
    const next = edit(previousXml);
    keepDisplayPasswords(next, parseRoot(await s.domain.xml({ inactive: true, secure: true }), 'domain'));
    // Only what the change adds is checked: the domain may hold what an operator put there.
    await checkHostSafety(ctx, s.host, 'domain', field, next, parseRoot(previousXml, 'domain'));
    const c = await connectionOf(ctx, s.host);
    await c.defineDomain(buildXml(next));
    const domain = await reread(ctx, s.host, s.domain);
    const xml = await domain.domain.xml({ inactive: true });
    const pendingRestart = (await domain.domain.isActive()) ? changedSections(previousXml, xml) : [];
    return { domain, previousXml, xml, pendingRestart };
  });
}

/** A client's whole new definition of `s`: the same name, and the same UUID (filled in when left out). */
function sameDomain(s: DomainShape, root: XmlElement): XmlElement {
  if (root.name !== 'domain')
    throw invalidInput('xml', `a domain definition is a <domain> element, not <${root.name}>`);
  const name = root.textAt('name');
  if (name !== s.domain.name) {
    throw invalidInput('xml', `the definition must keep the name ${s.domain.name} (got ${name ?? 'none'})`);
  }
  const uuid = root.textAt('uuid');
  if (uuid === undefined) root.insert(element('uuid', {}, s.domain.uuid), ['name']);
  else if (uuid.replaceAll('-', '').toLowerCase() !== s.domain.uuid.replaceAll('-', '').toLowerCase()) {
    throw invalidInput('xml', `the definition must keep the UUID ${s.domain.uuid}`);
  }
  return root;
}

builder.mutationFields((t) => ({
  updateDomain: t.field({
    authScopes: fromInput(onDomainArg('VM.Config')),
    type: ConfigChangeResult,
    description:
      'Replaces a domain’s persistent definition with a whole new one of the same name and UUID, as `virsh edit` does (snapshots and their metadata stay). With expectedDigest (from Domain.configDigest) the change is refused with CONFLICT when the definition changed since it was read. A running domain keeps its old definition until its next boot: pendingRestart says what waits. The new definition passes libvirt’s schema and the host-safety policy (what it adds to the current one).',
    args: payloadInput('UpdateDomain', {
      host: t.arg.string({ description: 'Registry name of the host; the default host when omitted.' }),
      domain: t.arg({ type: DomainRef, required: true, description: 'The domain: by name, UUID or runtime id.' }),
      xml: t.arg.string({ required: true, description: 'The complete new domain XML document.' }),
      expectedDigest: t.arg.string({
        description: 'Domain.configDigest as the caller read it; omitted, the change is made whatever happened since.',
      }),
    }),
    resolve: async (_r, { input: args }, ctx) => {
      const root = parsedClientXml(ctx, 'xml', args.xml);
      const s = await findDomain(ctx, hostName(ctx, args.host), args.domain);
      return changeDefinition(ctx, s, args.expectedDigest, 'xml', () => sameDomain(s, root));
    },
  }),
}));
