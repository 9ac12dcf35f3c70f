import { LibvirtError } from '../../libvirt/index.ts';
import { parseDomainXml } from '../../libvirt/xml/domain-xml.ts';
import { onNewDomain } from '../core/auth-scopes.ts';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { refuseUsedUuid, withoutOtherNames } from '../core/define-conflicts.ts';
import { invalidInput, parsedArgument } from '../core/errors.ts';
import { safeClientXml } from '../core/host-safety.ts';
import { connectionOf, hostName } from '../core/hosts.ts';
import { allOrNothing, changed, fromInput, mutationInput } from '../core/mutation-support.ts';
import { DomainNode, type DomainShape } from './domain.ts';
import { DomainInput, type DomainInputValue } from './domain-input.ts';
import { reread } from './lifecycle.ts';
import { planDomain, type Step } from './provision.ts';

async function ensureNameFree(ctx: GatewayContext, host: string, name: string, field: string): Promise<void> {
  const c = await connectionOf(ctx, host);
  const existing = await c.domainByName(name).catch((e: unknown) => {
    if (e instanceof LibvirtError && e.codeName === 'NO_DOMAIN') return undefined;
    throw e;
  });
  if (existing) throw invalidInput(field, `a domain named ${name} already exists on host ${host}`);
}

/** The name in a client's domain XML, checked to be new on the host (define would otherwise replace a domain). */
async function checkXml(ctx: GatewayContext, host: string, xml: string): Promise<void> {
  await safeClientXml(ctx, host, 'domain', 'xml', xml);
  const { name } = parsedArgument('xml', () => parseDomainXml(xml));
  await ensureNameFree(ctx, host, name, 'xml');
}

/**
 * The host's domains (every one, seen by the caller or not) after checking the document's UUID
 * is free: libvirt would name the domain that has it. Errors from libvirt then name no other domain.
 */
async function conflictChecked(ctx: GatewayContext, host: string, xml: string) {
  const c = await connectionOf(ctx, host);
  const { name, uuid } = parsedArgument('xml', () => parseDomainXml(xml));
  const existing = await c.domains();
  refuseUsedUuid(uuid, existing);
  return { c, scrub: withoutOtherNames('domain', name, existing) };
}

/**
 * Defines a domain, after the steps that make what it uses (a typed input's new volumes), then
 * autostarts and starts it as asked: any failure undoes every step before it.
 */
async function define(
  ctx: GatewayContext,
  host: string,
  xml: string | (() => string),
  options: { autostart: boolean; start?: boolean; before?: Step[] },
): Promise<DomainShape> {
  const text = () => (typeof xml === 'string' ? xml : xml());
  let shape: DomainShape | undefined;
  const domain = () => (shape as DomainShape).domain;
  await allOrNothing([
    ...(options.before ?? []),
    {
      run: async () => {
        const { c, scrub } = await conflictChecked(ctx, host, text());
        shape = { host, domain: await c.defineDomain(text()).catch(scrub) };
      },
      undo: () => shape?.domain.undefine() ?? Promise.resolve(),
    },
    { run: () => (options.autostart ? domain().setAutostart(true) : Promise.resolve()) },
    {
      run: () => (options.start ? domain().start() : Promise.resolve()),
      undo: () =>
        domain()
          .destroy()
          .catch(() => undefined),
    },
  ]);
  return reread(ctx, host, domain());
}

/** Creates a transient domain (started at once), after the steps that make what it uses. */
async function create(
  ctx: GatewayContext,
  host: string,
  xml: string | (() => string),
  before: Step[] = [],
): Promise<DomainShape> {
  const text = () => (typeof xml === 'string' ? xml : xml());
  let shape: DomainShape | undefined;
  await allOrNothing([
    ...before,
    {
      run: async () => {
        const { c, scrub } = await conflictChecked(ctx, host, text());
        shape = { host, domain: await c.createDomain(text()).catch(scrub) };
      },
    },
  ]);
  changed(ctx);
  return shape as DomainShape;
}

/** A typed input's plan, once its name is known to be free on the host. */
async function planned(ctx: GatewayContext, host: string, input: DomainInputValue, mutation: string) {
  await ensureNameFree(ctx, host, input.name, 'domain.name');
  return planDomain(ctx, host, input, mutation);
}

builder.mutationFields((t) => {
  const host = t.arg.string({ description: 'Registry name of the host; the default host when omitted.' });
  const xml = t.arg.string({ required: true, description: 'A complete domain XML document.' });
  const autostart = t.arg.boolean({
    defaultValue: false,
    required: true,
    description: 'Start it when the host boots. @default false',
  });
  return {
    createDomain: t.field({
      authScopes: fromInput(onNewDomain('VM.Allocate')),
      type: DomainNode,
      description:
        'Creates a transient domain from parameters, with the volumes it asks for, and starts it at once (the volumes stay when it stops).',
      args: mutationInput('CreateDomain', {
        host,
        domain: t.arg({ type: DomainInput, required: true, description: 'The domain to create.' }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, args.host);
        const plan = await planned(ctx, h, args.domain, 'Mutation.createDomain');
        return create(ctx, h, plan.xml, plan.steps);
      },
    }),
    createDomainFromXml: t.field({
      authScopes: fromInput(onNewDomain('VM.Allocate')),
      type: DomainNode,
      description: 'Creates a transient domain from XML and starts it at once.',
      args: mutationInput('CreateDomainFromXml', { host, xml }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, args.host);
        await checkXml(ctx, h, args.xml);
        return create(ctx, h, args.xml);
      },
    }),
    defineDomain: t.field({
      authScopes: fromInput(onNewDomain('VM.Allocate')),
      type: DomainNode,
      description:
        'Defines a persistent domain from parameters, with the volumes it asks for; autostart and start optional. If a step fails, every step before it is undone (new volumes deleted, definition removed).',
      args: mutationInput('DefineDomain', {
        host,
        domain: t.arg({ type: DomainInput, required: true, description: 'The domain to define.' }),
        autostart,
        start: t.arg.boolean({
          defaultValue: false,
          required: true,
          description: 'Start it once defined. @default false',
        }),
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, args.host);
        const plan = await planned(ctx, h, args.domain, 'Mutation.defineDomain');
        return define(ctx, h, plan.xml, { autostart: args.autostart, start: args.start, before: plan.steps });
      },
    }),
    defineDomainFromXml: t.field({
      authScopes: fromInput(onNewDomain('VM.Allocate')),
      type: DomainNode,
      description:
        'Defines a persistent domain from XML, not started; autostart optional. The name must be new on the host.',
      args: mutationInput('DefineDomainFromXml', {
        host,
        xml,
        autostart,
      }),
      resolve: async (_r, { input: args }, ctx) => {
        const h = hostName(ctx, args.host);
        await checkXml(ctx, h, args.xml);
        return define(ctx, h, args.xml, { autostart: args.autostart });
      },
    }),
  };
});
