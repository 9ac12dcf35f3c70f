import type { Privilege } from '../../auth/privileges.ts';
import {
  Domain,
  type DomainStateName,
  DomainState as DomainStateValues,
  domainDefinitions,
  domainStateName,
  domainStateReasonName,
  LibvirtError,
} from '../../libvirt/index.ts';
import { inParallelChunks } from '../../libvirt/parallel-chunks.ts';
import type { DomainXml } from '../../libvirt/xml/domain-xml.ts';
import { somewhereOnHostArg, somewhereOnParentHost } from '../core/auth-scopes.ts';
import { builder, decodeGlobalIdOrMark } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { describedEnum, knownAttribute, OS_TYPES, OsType } from '../core/enum-types.ts';
import { invalidInput, notFound } from '../core/errors.ts';
import { connectionOf, Host, hostName } from '../core/hosts.ts';
import { impliedHostOf } from '../core/mutation-support.ts';
import { bigIntFields, whenLoaded } from '../core/read-fields.ts';
import { hostKey, hostLoader, loadByHost, perHost, perRequest, splitHostKey } from '../core/request-cache.ts';

export interface DomainShape {
  host: string;
  domain: Domain;
}

const UUID = /^[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}$/i;

const keyOf = (s: DomainShape) => hostKey(s.host, s.domain.uuid);
const shape = (host: string) => (domain: Domain) => ({ host, domain });

function isNotFound(e: unknown): boolean {
  return e instanceof LibvirtError && e.codeName === 'NO_DOMAIN';
}

/**
 * Whether the caller may see this domain at all (VM.Audit on it): otherwise it does not exist for
 * them. Checked here, where every lookup and list passes, rather than as a type-level scope on
 * Domain: that ran once per domain object and cost ~80 ms on a 1,000-domain inventory.
 */
function isVisible(ctx: GatewayContext, host: string, domain: Domain): boolean {
  return ctx.identity.can('VM.Audit', host, domain.name);
}

/** Lookups that return one per key: a single lookup for one key, one list call for several. */
async function lookup(
  ctx: GatewayContext,
  host: string,
  keys: string[],
  one: (key: string) => Promise<Domain>,
  match: (d: Domain, key: string) => boolean,
): Promise<Array<DomainShape | Error>> {
  if (keys.length === 1) {
    const key = keys[0] as string;
    try {
      const domain = await one(key);
      return [isVisible(ctx, host, domain) ? { host, domain } : notFound('domain', key, { host })];
    } catch (e) {
      return [isNotFound(e) ? notFound('domain', key, { host }, e as LibvirtError) : (e as Error)];
    }
  }
  const all = await domainList(ctx, host);
  return keys.map((k) => all.find((s) => match(s.domain, k)) ?? notFound('domain', k, { host }));
}

export const DomainNode = builder.loadableNodeRef('Domain', {
  id: { resolve: keyOf },
  load: (keys: string[], ctx: GatewayContext) =>
    loadByHost(ctx, keys, async (ctx, host, uuids) => {
      const c = await connectionOf(ctx, host);
      return lookup(
        ctx,
        host,
        uuids,
        (u) => c.domainByUuid(u),
        (d, u) => d.uuid === u.toLowerCase(),
      );
    }),
});

/** Every domain of a host, listed once per request; primes the lookups. */
export const domainList = perHost(async (ctx, host): Promise<DomainShape[]> => {
  const list = (await (await connectionOf(ctx, host)).domains())
    .filter((d) => isVisible(ctx, host, d))
    .map(shape(host));
  const loader = DomainNode.getDataloader(ctx);
  for (const s of list) loader.prime(keyOf(s), s);
  return list;
});

const byName = hostLoader<DomainShape>(async (ctx, host, names) => {
  const c = await connectionOf(ctx, host);
  return lookup(
    ctx,
    host,
    names,
    (n) => c.domainByName(n),
    (d, n) => d.name === n,
  );
});

const byId = hostLoader<DomainShape>(async (ctx, host, ids) => {
  const c = await connectionOf(ctx, host);
  return lookup(
    ctx,
    host,
    ids,
    (i) => c.domainById(Number(i)),
    (d, i) => d.id === Number(i),
  );
});

interface Runtime {
  state: DomainStateName | 'UNKNOWN';
  reason?: string;
  cpuTimeNs: bigint;
  vcpus: number;
  memoryKiB: bigint;
  maxMemoryKiB: bigint;
}

/** State, CPU, balloon and vCPUs of every domain: one bulk stats call, plus one batch info call for what the driver's stats lack. */
const runtimeSnapshot = perHost(async (ctx, host): Promise<Map<string, Runtime>> => {
  const c = await connectionOf(ctx, host);
  const rows = await c.allDomainStats(['STATE', 'CPU_TOTAL', 'BALLOON', 'VCPU'], 'all', { enforce: false });
  const out = new Map<string, Runtime>();
  const lacking: Array<{ domain: Domain; state: number; reason: number }> = [];
  for (const { domain, params: p } of rows) {
    const state = typeof p['state.state'] === 'number' ? p['state.state'] : -1;
    const reason = typeof p['state.reason'] === 'number' ? p['state.reason'] : -1;
    const memory = p['balloon.current'];
    const max = p['balloon.maximum'];
    const vcpus = p['vcpu.current'];
    const cpu = p['cpu.time'];
    if (typeof memory !== 'bigint' || typeof max !== 'bigint' || typeof vcpus !== 'number') {
      lacking.push({ domain, state, reason });
      continue;
    }
    out.set(domain.uuid, {
      state: domainStateName(state),
      reason: domainStateReasonName(state, reason),
      cpuTimeNs: typeof cpu === 'bigint' ? cpu : 0n,
      vcpus,
      memoryKiB: memory,
      maxMemoryKiB: max,
    });
  }
  // A shut-off domain's vCPUs and memory are its definition's, exactly what virDomainGetInfo
  // reports for it: when this request reads the definitions anyway, one RPC per domain is saved.
  const asked = definitionsAsked(ctx);
  const definitions = await Promise.all(
    lacking.map(({ domain, state }) =>
      state === DomainStateValues.SHUTOFF && asked.has(hostKey(host, domain.uuid))
        ? definitionLoader(ctx)
            .load(hostKey(host, domain.uuid))
            .catch(() => undefined)
        : undefined,
    ),
  );
  const stillLacking = lacking.filter((l, i) => {
    const def = definitions[i];
    if (def === undefined) return true;
    out.set(l.domain.uuid, {
      state: 'SHUTOFF',
      reason: domainStateReasonName(l.state, l.reason),
      cpuTimeNs: 0n,
      vcpus: def.vcpus.current,
      memoryKiB: def.currentMemoryKiB ?? def.memoryKiB,
      maxMemoryKiB: def.memoryKiB,
    });
    return false;
  });
  const infos = await inParallelChunks(
    stillLacking.map((l) => l.domain),
    (chunk) => Domain.infoMany(chunk),
  );
  stillLacking.forEach(({ domain, state, reason }, i) => {
    const info = infos[i];
    if (info && !(info instanceof LibvirtError)) {
      out.set(domain.uuid, { ...info, reason: state < 0 ? undefined : domainStateReasonName(state, reason) });
    }
  });
  loadedRuntimes(ctx).set(host, out);
  return out;
});

/**
 * What this request has loaded already, readable without a promise: a field whose data is here
 * resolves synchronously (graphql-js then builds no promise for it or its parent object).
 * Cleared with the loaders by forgetReads.
 */
const loadedRuntimes = perRequest(() => new Map<string, Map<string, Runtime>>());
const loadedDefinitions = perRequest(() => new Map<string, DomainXml>());

/** States a mutation of this request just produced (libvirt's call returned once it held): read without asking again. */
const producedStates = perRequest(() => new Map<string, DomainStateName | 'UNKNOWN'>());

/** After an action that leaves the domain in `state` when it returns (suspend, resume...): later fields read it from here. */
export function rememberState(ctx: GatewayContext, s: DomainShape, state: DomainStateName | 'UNKNOWN'): void {
  producedStates(ctx).set(keyOf(s), state);
}

/** The domain's runtime figures: at once when this request's snapshot holds them. */
export function runtimeOf(ctx: GatewayContext, s: DomainShape): Runtime | Promise<Runtime> {
  return loadedRuntimes(ctx).get(s.host)?.get(s.domain.uuid) ?? runtimeFetched(ctx, s);
}

async function runtimeFetched(ctx: GatewayContext, s: DomainShape): Promise<Runtime> {
  const known = (await runtimeSnapshot(ctx, s.host)).get(s.domain.uuid);
  if (known) return known;
  // Defined after this request took its snapshot.
  const [info, state] = await Promise.all([s.domain.info(), s.domain.state()]);
  return { ...info, reason: state.reason };
}

export const persistentSet = perHost(
  async (ctx, host) => new Set((await (await connectionOf(ctx, host)).domains('persistent')).map((d) => d.uuid)),
);
export const autostartSet = perHost(
  async (ctx, host) => new Set((await (await connectionOf(ctx, host)).domains('autostart')).map((d) => d.uuid)),
);

/** XML per domain and flavour (live or inactive), batched into one call per host. */
const xmlLoader = hostLoader<string>(async (ctx, host, keys) => {
  const out: Array<string | Error> = new Array(keys.length);
  for (const inactive of [false, true]) {
    const indexes = keys.flatMap((k, i) => (k.endsWith(inactive ? '/inactive' : '/live') ? [i] : []));
    if (indexes.length === 0) continue;
    const shapes = await DomainNode.getDataloader(ctx).loadMany(
      indexes.map((i) => hostKey(host, (keys[i] as string).split('/')[0] as string)),
    );
    const found = shapes.flatMap((s, j) => (s instanceof Error ? [] : [{ s, i: indexes[j] as number }]));
    shapes.forEach((s, j) => {
      if (s instanceof Error) out[indexes[j] as number] = s;
    });
    const xmls = await inParallelChunks(
      found.map((f) => f.s.domain),
      (chunk) => Domain.xmlMany(chunk, { inactive }),
    );
    found.forEach((f, j) => {
      out[f.i] = xmls[j] as string | Error;
    });
  }
  return out;
});

export function domainXml(ctx: GatewayContext, s: DomainShape, inactive = false): Promise<string> {
  return xmlLoader(ctx).load(hostKey(s.host, `${s.domain.uuid}/${inactive ? 'inactive' : 'live'}`));
}

/**
 * The live definitions a request reads: one batch per host, each document asked of libvirt and
 * parsed off Node's loop only when it changed since the last request (domainDefinitions).
 */
const definitionLoader = hostLoader<DomainXml>(async (ctx, host, uuids) => {
  const shapes = await DomainNode.getDataloader(ctx).loadMany(uuids.map((u) => hostKey(host, u)));
  const found = shapes.filter((s): s is DomainShape => !(s instanceof Error));
  const definitions = await inParallelChunks(
    found.map((s) => s.domain),
    (chunk) => domainDefinitions(chunk),
  );
  const loaded = loadedDefinitions(ctx);
  let next = 0;
  return shapes.map((s) => {
    if (s instanceof Error) return s;
    const definition = definitions[next++] as DomainXml | Error;
    if (!(definition instanceof Error)) loaded.set(keyOf(s), definition);
    return definition;
  });
});

/** Domains whose definition this request reads: the runtime snapshot takes shut-off domains' figures from it. */
const definitionsAsked = perRequest(() => new Set<string>());

/**
 * The live definition, read once per request (concurrent fields and domains share one batch): at
 * once when this request has it already.
 */
export function domainDefinition(ctx: GatewayContext, s: DomainShape): DomainXml | Promise<DomainXml> {
  const key = keyOf(s);
  const loaded = loadedDefinitions(ctx).get(key);
  if (loaded !== undefined) return loaded;
  definitionsAsked(ctx).add(key);
  return definitionLoader(ctx).load(key);
}

/**
 * Loads what the fields asked of these domains read (their runtime figures, their definitions)
 * in one batch before the list resolves, so that every one of those fields resolves at once.
 */
export async function prefetchDomains(
  ctx: GatewayContext,
  list: readonly DomainShape[],
  wants: { runtime: boolean; definition: boolean },
): Promise<void> {
  const waits: Array<Promise<unknown>> = [];
  if (wants.definition) {
    const asked = definitionsAsked(ctx);
    const keys = list.map(keyOf);
    for (const key of keys) asked.add(key);
    waits.push(definitionLoader(ctx).loadMany(keys));
  }
  if (wants.runtime) for (const host of new Set(list.map((s) => s.host))) waits.push(runtimeSnapshot(ctx, host));
  // A failure here is the fields' to report, each at its own path, as without the prefetch.
  await Promise.allSettled(waits);
}

/** What each libvirt domain state means to a user (virDomainState). */
const domainStateDescriptions: Record<DomainStateName, string> = {
  NOSTATE: 'libvirt reports no state.',
  RUNNING: 'Running.',
  BLOCKED: 'Blocked on a resource (Xen); running for every other driver.',
  PAUSED: 'Paused: by a user, for a migration or a snapshot, or after an I/O error.',
  SHUTDOWN: 'Being shut down.',
  SHUTOFF: 'Stopped (defined but not running).',
  CRASHED: 'Crashed, and kept in that state.',
  PMSUSPENDED: 'Suspended by the guest’s power management.',
};

export const DomainStateEnum = describedEnum(
  'DomainState',
  'libvirt’s domain state (virDomainState).',
  domainStateDescriptions,
);

export const DomainRef = builder.inputType('DomainRef', {
  description:
    'One domain by exactly one of its global ID, name, UUID or runtime id. A global ID names its host: a mutation’s host is then implied, and a different host is INVALID_INPUT.',
  isOneOf: true,
  fields: (t) => ({
    id: t.id({ description: 'The global ID, as `Domain.id` gives it.' }),
    name: t.string({ description: 'The domain name.' }),
    uuid: t.string({ description: 'The domain UUID, e.g. 4dea22b3-1d52-d8f3-2516-782e98ab3fa0.' }),
    runtimeId: t.int({ description: 'The runtime id of a running domain, as `Domain.runtimeId` gives it.' }),
  }),
});

/** A DomainRef's value: exactly one of its fields is set. */
export interface DomainRefValue {
  id?: string | null;
  name?: string | null;
  uuid?: string | null;
  runtimeId?: number | null;
}

/** The host and UUID a Domain global ID names; INVALID_INPUT naming `field` for any other ID. */
export function domainOfGlobalId(id: string, field: string): { host: string; uuid: string } {
  const decoded = decodeGlobalIdOrMark(id);
  if (decoded.typename !== 'Domain') throw invalidInput(field, 'is not the global ID of a domain');
  const [host, uuid] = splitHostKey(decoded.id);
  return { host, uuid };
}

/** Resolves a DomainRef on a host; bad input and misses are typed errors naming the field. */
export function findDomain(
  ctx: GatewayContext,
  host: string,
  ref: DomainRefValue,
  field = 'domain',
): Promise<DomainShape> {
  if (ref.id != null) {
    let named: { host: string; uuid: string };
    try {
      named = domainOfGlobalId(String(ref.id), `${field}.id`);
    } catch (e) {
      return Promise.reject(e);
    }
    if (named.host !== host) {
      return Promise.reject(invalidInput(`${field}.id`, `names a domain of host ${named.host}, not of host ${host}`));
    }
    return DomainNode.getDataloader(ctx).load(hostKey(host, named.uuid));
  }
  if (ref.uuid != null) {
    if (!UUID.test(ref.uuid)) return Promise.reject(invalidInput(`${field}.uuid`, 'is not a UUID'));
    return DomainNode.getDataloader(ctx).load(hostKey(host, ref.uuid.toLowerCase()));
  }
  if (ref.runtimeId != null) {
    if (ref.runtimeId < 1) return Promise.reject(invalidInput(`${field}.runtimeId`, 'must be a positive runtime id'));
    return byId(ctx).load(hostKey(host, String(ref.runtimeId)));
  }
  if (ref.name != null) return byName(ctx).load(hostKey(host, ref.name));
  return Promise.reject(invalidInput(field, 'give exactly one of id, name, uuid or runtimeId'));
}

/** authScopes: a VM privilege on the domain named by `host` and `domain` (NOT_FOUND when the caller may not see it). */
export function onDomainArg(privilege: Privilege) {
  return async (
    _parent: unknown,
    args: { host?: string | null; domain: Parameters<typeof findDomain>[2] },
    ctx: GatewayContext,
  ) => {
    const host = hostName(ctx, args.host);
    const s = await findDomain(ctx, host, args.domain);
    return { privilege: { privilege, host, domain: s.domain.name } };
  };
}

DomainNode.implement({
  description: 'A libvirt domain (virtual machine). Identity is its UUID.',
  fields: (t) => ({
    host: t.field({
      type: Host,
      nullable: false,
      description: 'The host it runs or is defined on.',
      resolve: (s) => ({ name: s.host }),
    }),
    name: t.string({
      nullable: false,
      description: 'The domain name, unique on its host.',
      resolve: (s) => s.domain.name,
    }),
    uuid: t.string({ nullable: false, description: 'The domain UUID: its identity.', resolve: (s) => s.domain.uuid }),
    runtimeId: t.int({
      description: 'libvirt’s numeric id while the domain runs; null when it is not running.',
      resolve: (s) => (s.domain.id === -1 ? null : s.domain.id),
    }),
    active: t.boolean({
      nullable: false,
      description: 'Whether it is running (or paused).',
      resolve: (s) => s.domain.id !== -1,
    }),
    state: t.field({
      type: DomainStateEnum,
      description: 'The current state.',
      resolve: (s, _a, ctx) => {
        const produced = producedStates(ctx).get(keyOf(s));
        const state = produced ?? whenLoaded(runtimeOf(ctx, s), (r) => r.state);
        return whenLoaded(state, (known) => (known === 'UNKNOWN' ? null : known));
      },
    }),
    stateReason: t.string({
      description: 'Why it is in that state, e.g. BOOTED, USER, DESTROYED (virDomainGetState).',
      resolve: async (s, _a, ctx) => (await runtimeOf(ctx, s)).reason ?? (await s.domain.state()).reason,
    }),
    cpuTimeNs: t.field({
      type: 'BigInt',
      description: 'CPU time used, in nanoseconds.',
      resolve: (s, _a, ctx) => whenLoaded(runtimeOf(ctx, s), (r) => r.cpuTimeNs),
    }),
    cpuTimeSeconds: t.float({
      description: 'CPU time used, in seconds.',
      resolve: (s, _a, ctx) => whenLoaded(runtimeOf(ctx, s), (r) => Number(r.cpuTimeNs) / 1e9),
    }),
    vcpus: t.int({
      description: 'Virtual CPUs in use now.',
      resolve: (s, _a, ctx) => whenLoaded(runtimeOf(ctx, s), (r) => r.vcpus),
    }),
    maxVcpus: t.int({
      description: 'The most virtual CPUs it may have (from its definition).',
      resolve: (s, _a, ctx) => whenLoaded(domainDefinition(ctx, s), (d) => d.vcpus.max),
    }),
    ...bigIntFields(t, runtimeOf, {
      memoryKiB: 'Memory in use (the balloon’s current size), in KiB.',
      maxMemoryKiB: 'Maximum memory, in KiB.',
    }),
    osType: t.field({
      type: OsType,
      description: 'The guest OS type of its definition; null for one the gateway does not know.',
      resolve: (s, _a, ctx) => whenLoaded(domainDefinition(ctx, s), (d) => knownAttribute(OS_TYPES, d.os.type)),
    }),
    description: t.string({
      description: 'The free-text description in its definition.',
      resolve: (s, _a, ctx) => whenLoaded(domainDefinition(ctx, s), (d) => d.description ?? null),
    }),
    persistent: t.boolean({
      description: 'Whether it has a persistent definition (false for transient domains).',
      resolve: async (s, _a, ctx) => (await persistentSet(ctx, s.host)).has(s.domain.uuid),
    }),
    autostart: t.boolean({
      description: 'Whether the host starts it at boot.',
      resolve: async (s, _a, ctx) => (await autostartSet(ctx, s.host)).has(s.domain.uuid),
    }),
    xml: t.string({
      description: 'The domain XML: the live definition, or the persistent one with inactive: true.',
      args: {
        inactive: t.arg.boolean({
          defaultValue: false,
          required: true,
          description: 'The persistent definition (what the next start uses) instead of the live one.',
        }),
      },
      resolve: (s, args, ctx) => domainXml(ctx, s, args.inactive),
    }),
  }),
});

builder.objectFields(Host, (t) => ({
  domain: t.field({
    authScopes: somewhereOnParentHost('VM.Audit'),
    type: DomainNode,
    description: 'One domain by name, UUID or runtime id; a NOT_FOUND error when there is none.',
    args: { ref: t.arg({ type: DomainRef, required: true, description: 'The domain: by name, UUID or runtime id.' }) },
    resolve: (h, args, ctx) => findDomain(ctx, h.name, args.ref, 'ref'),
  }),
}));

builder.queryFields((t) => ({
  domain: t.field({
    authScopes: somewhereOnHostArg('VM.Audit'),
    type: DomainNode,
    description: 'One domain of a host (the default host when omitted).',
    args: {
      host: t.arg.string({ description: 'Registry name of the host.' }),
      ref: t.arg({ type: DomainRef, required: true, description: 'The domain: by name, UUID or runtime id.' }),
    },
    resolve: (_root, args, ctx) => findDomain(ctx, hostName(ctx, impliedHostOf(args.host, args.ref)), args.ref, 'ref'),
  }),
}));
