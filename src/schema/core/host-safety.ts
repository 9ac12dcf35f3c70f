import type { GraphQLError } from 'graphql';
import type { Privilege } from '../../auth/privileges.ts';
import { LibvirtError } from '../../libvirt/index.ts';
import { parseCapabilitiesXml } from '../../libvirt/xml/capabilities-xml.ts';
import {
  type ClientDocumentKind,
  checkClientDocument,
  checkClientPath,
  defaultHostSafety,
  type HostAccess,
  type HostInventory,
  type HostSafetyConfig,
  type PathPlace,
  UNSAFE_PRIVILEGE,
  UnsafeInputError,
  UseDeniedError,
} from '../../libvirt/xml/host-safety.ts';
import { parseInterfaceXml } from '../../libvirt/xml/interface-xml.ts';
import { parseNetworkXml } from '../../libvirt/xml/network-xml.ts';
import { schemaProblem } from '../../libvirt/xml/schema-validation.ts';
import { parseStoragePoolXml } from '../../libvirt/xml/storage-pool-xml.ts';
import { buildXml, documentElement, parseXmlNodes, type XmlElement } from '../../libvirt/xml/xml-codec.ts';
import { parseClientTree } from '../../libvirt/xml/xml-trees.ts';
import type { GatewayContext } from './context.ts';
import { gatewayError, parsedArgument } from './errors.ts';
import { connectionOf } from './hosts.ts';
import { volumeHiddenFrom } from './storage-visibility.ts';
import { checkXmlSize } from './xml-size.ts';

function settingsOf(ctx: GatewayContext): HostSafetyConfig {
  return ctx.hostSafety ?? defaultHostSafety();
}

/** Whether libvirt runs on this machine (no host in the URI), so paths can be resolved on this filesystem. */
export function isLocalHost(ctx: GatewayContext, host: string): boolean {
  return isLocalUri(ctx.hosts.uri(host));
}

function isLocalUri(uri: string): boolean {
  try {
    return new URL(uri).hostname === '';
  } catch {
    return false;
  }
}

function missing(e: unknown, ...codes: string[]): boolean {
  return e instanceof LibvirtError && codes.includes(e.codeName);
}

/** The host's storage, networks, interfaces and emulators, read from libvirt when the policy asks. */
function hostInventory(ctx: GatewayContext, host: string): HostInventory {
  const memo = new Map<string, Promise<unknown>>();
  const once = <T>(key: string, read: () => Promise<T>): Promise<T> => {
    let p = memo.get(key) as Promise<T> | undefined;
    if (!p) {
      p = read();
      memo.set(key, p);
    }
    return p;
  };
  const connection = () => connectionOf(ctx, host);
  const networkXmls = () =>
    once('networks', async () => {
      const c = await connection();
      const nets = await c.networks();
      return Promise.all(nets.map(async (n) => parseNetworkXml(await n.xml())));
    });
  const interfaceXmls = () =>
    once('interfaces', async () => {
      const c = await connection();
      const all = await c.interfaces();
      const xmls = await Promise.all(all.map((i) => i.xml().catch(() => undefined)));
      return all.map((i, k) => {
        const xml = xmls[k];
        let type: string | undefined;
        try {
          type = xml === undefined ? undefined : parseInterfaceXml(xml).type;
        } catch {
          type = undefined;
        }
        return { name: i.name, type };
      });
    });
  return {
    local: isLocalUri(ctx.hosts.uri(host)),
    poolTargets: () =>
      once('pools', async () => {
        const c = await connection();
        const pools = await c.storagePools();
        const xmls = await Promise.all(pools.map((p) => p.xml()));
        return xmls.flatMap((xml) => {
          const parsed = parseStoragePoolXml(xml);
          return parsed.targetPath === undefined ? [] : [{ pool: parsed.name, path: parsed.targetPath }];
        });
      }),
    volumePath: async (pool, volume) => {
      const c = await connection();
      try {
        return (await (await c.storagePoolByName(pool)).volumeByName(volume)).path;
      } catch (e) {
        if (missing(e, 'NO_STORAGE_POOL', 'NO_STORAGE_VOL')) return undefined;
        throw e;
      }
    },
    networks: async () => (await networkXmls()).map((n) => n.name),
    bridges: async () => [
      ...(await networkXmls()).flatMap((n) => (n.bridge?.name ? [{ name: n.bridge.name, network: n.name }] : [])),
      ...(await interfaceXmls()).filter((i) => i.type === 'bridge').map((i) => ({ name: i.name })),
    ],
    hostInterfaces: async () => (await interfaceXmls()).map((i) => i.name),
    emulators: () =>
      once('emulators', async () => {
        const caps = parseCapabilitiesXml(await (await connection()).capabilities());
        return caps.guests.flatMap((g) => (g.emulator ? [g.emulator] : []));
      }),
  };
}

/** UNSAFE_INPUT: names the element (and path) refused and what would allow it. */
function unsafeInput(e: UnsafeInputError, field: string): GraphQLError {
  return gatewayError('UNSAFE_INPUT', e.message, {
    field,
    element: e.element,
    location: e.location,
    ...(e.path !== undefined ? { path: e.path } : {}),
    allowedBy: e.allowedBy,
    privilege: UNSAFE_PRIVILEGE,
  });
}

/** FORBIDDEN naming Storage.Use or Network.Use, or NOT_FOUND when the caller may not even see what was named. */
function useDenied(e: UseDeniedError, field: string): GraphQLError {
  if (!e.visible) return gatewayError('NOT_FOUND', e.message, { field, location: e.location });
  return gatewayError('FORBIDDEN', e.message, { field, location: e.location, privilege: e.privilege });
}

function policyError(e: unknown, field: string): unknown {
  if (e instanceof UnsafeInputError) return unsafeInput(e, field);
  if (e instanceof UseDeniedError) return useDenied(e, field);
  return e;
}

/** Whether the policy applies to this caller on this host. */
function policyApplies(ctx: GatewayContext, host: string): boolean {
  if (settingsOf(ctx).allowUnsafeXml) return false;
  // Without configured identities every caller is the anonymous admin: that is no reason to trust its XML.
  return ctx.identity.kind === 'anonymous' || !ctx.identity.can(UNSAFE_PRIVILEGE, host);
}

/** What the caller's grants let it use and see on the host, for the policy. */
function hostAccess(ctx: GatewayContext, host: string): HostAccess {
  const can = (privilege: Privilege, object?: string) => ctx.identity.can(privilege, host, object);
  return {
    usePool: (pool) => can('Storage.Use', pool),
    seePool: (pool) => can('Storage.Audit', pool),
    useUnpooledStorage: () => can('Storage.Use'),
    useNetwork: (network) => can('Network.Use', network),
    seeNetwork: (network) => can('Network.Audit', network),
    useHostBridges: () => can('Network.Use'),
    volumeHidden: (path) => volumeHiddenFrom(ctx, host, path),
  };
}

/**
 * Runs libvirt's schema and then the host-safety policy on a client document, as libxml2 (libvirt's
 * own parser) reads `xml`: INVALID_INPUT naming the line when the schema refuses it, UNSAFE_INPUT
 * when the operator's config does not allow what it asks of the host, FORBIDDEN or NOT_FOUND when
 * the caller's grants do not cover the storage or network it names.
 */
async function checkClientXml(
  ctx: GatewayContext,
  host: string,
  kind: ClientDocumentKind,
  field: string,
  xml: string,
  baseline?: XmlElement,
): Promise<void> {
  if (!policyApplies(ctx, host)) return;
  const tree = await parseClientTree(xml).catch((e: unknown) => {
    throw gatewayError('INVALID_INPUT', `${field}: ${(e as Error).message}`, { field });
  });
  const problem = await schemaProblem(kind, xml, tree);
  if (problem !== undefined) {
    throw gatewayError('INVALID_INPUT', `${field}: libvirt’s ${kind} schema refuses it at ${problem}`, { field });
  }
  try {
    await checkClientDocument(tree, kind, settingsOf(ctx), hostInventory(ctx, host), hostAccess(ctx, host), baseline);
  } catch (e) {
    throw policyError(e, field);
  }
}

/** Runs the schema and the policy on an already parsed document (an edit of a definition, a save file's). */
export function checkHostSafety(
  ctx: GatewayContext,
  host: string,
  kind: ClientDocumentKind,
  field: string,
  root: XmlElement,
  baseline?: XmlElement,
): Promise<void> {
  return checkClientXml(ctx, host, kind, field, buildXml(root), baseline);
}

/**
 * A client's XML argument, size-capped, parsed and checked against libvirt's schema and the
 * host-safety policy before libvirt sees it: INVALID_INPUT when too large, malformed or refused by
 * the schema, UNSAFE_INPUT when the operator's config does not allow what it asks of the host.
 */
export async function safeClientXml(
  ctx: GatewayContext,
  host: string,
  kind: ClientDocumentKind,
  field: string,
  xml: string,
): Promise<XmlElement> {
  checkXmlSize(ctx, field, xml);
  const root = parsedArgument(field, () => documentElement(parseXmlNodes(xml)));
  await checkClientXml(ctx, host, kind, field, xml);
  return root;
}

/** A client's XML argument, size-capped and parsed, for requests that give nothing to the host (detach). */
export function parsedClientXml(ctx: GatewayContext, field: string, xml: string): XmlElement {
  checkXmlSize(ctx, field, xml);
  return parsedArgument(field, () => documentElement(parseXmlNodes(xml)));
}

/** XML the gateway built itself, checked like a client's (its values came from the client). */
export function checkBuiltXml(ctx: GatewayContext, host: string, kind: ClientDocumentKind, field: string, xml: string) {
  return checkClientXml(ctx, host, kind, field, xml);
}

/**
 * A host path argument (a save file) under the host-safety policy and the caller's storage grants:
 * inside a pool it may use or under storage.allowedPaths, else UNSAFE_INPUT, FORBIDDEN or NOT_FOUND.
 * Answers where the path lies, in canonical form.
 */
export async function safeClientPath(
  ctx: GatewayContext,
  host: string,
  field: string,
  path: string,
): Promise<PathPlace> {
  const unchecked = !policyApplies(ctx, host);
  const config = unchecked ? { ...settingsOf(ctx), allowUnsafeXml: true } : settingsOf(ctx);
  try {
    return await checkClientPath(path, field, config, hostInventory(ctx, host), hostAccess(ctx, host));
  } catch (e) {
    throw policyError(e, field);
  }
}
