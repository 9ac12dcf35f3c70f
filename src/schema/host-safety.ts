import type { GraphQLError } from 'graphql';
import { LibvirtError } from '../libvirt/index.ts';
import { parseCapabilitiesXml } from '../libvirt/xml/capabilities-xml.ts';
import {
  type ClientDocumentKind,
  checkClientDocument,
  checkClientPath,
  defaultHostSafety,
  type HostInventory,
  type HostSafetyConfig,
  UNSAFE_PRIVILEGE,
  UnsafeInputError,
} from '../libvirt/xml/host-safety.ts';
import { parseInterfaceXml } from '../libvirt/xml/interface-xml.ts';
import { parseNetworkXml } from '../libvirt/xml/network-xml.ts';
import { parseStoragePoolXml } from '../libvirt/xml/storage-pool-xml.ts';
import { documentElement, parseXmlNodes, type XmlElement } from '../libvirt/xml/xml-codec.ts';
import type { GatewayContext } from './context.ts';
import { gatewayError, parsedArgument } from './errors.ts';
import { connectionOf } from './host.ts';
import { checkXmlSize } from './xml-size.ts';

function settingsOf(ctx: GatewayContext): HostSafetyConfig {
  return ctx.hostSafety ?? defaultHostSafety();
}

/** Whether libvirt runs on this machine (no host in the URI), so paths can be resolved on this filesystem. */
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
          const path = parseStoragePoolXml(xml).targetPath;
          return path === undefined ? [] : [path];
        });
      }),
    volumeExists: async (pool, volume) => {
      const c = await connection();
      try {
        await (await c.storagePoolByName(pool)).volumeByName(volume);
        return true;
      } catch (e) {
        if (missing(e, 'NO_STORAGE_POOL', 'NO_STORAGE_VOL')) return false;
        throw e;
      }
    },
    isVolumePath: async (path) => {
      const c = await connection();
      try {
        await c.volumeByPath(path);
        return true;
      } catch (e) {
        if (missing(e, 'NO_STORAGE_VOL', 'NO_STORAGE_POOL', 'INVALID_ARG')) return false;
        throw e;
      }
    },
    networks: async () => (await networkXmls()).map((n) => n.name),
    bridges: async () => [
      ...(await networkXmls()).flatMap((n) => (n.bridge?.name ? [n.bridge.name] : [])),
      ...(await interfaceXmls()).filter((i) => i.type === 'bridge').map((i) => i.name),
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

/** Whether the policy applies to this caller on this host. */
function policyApplies(ctx: GatewayContext, host: string): boolean {
  if (settingsOf(ctx).allowUnsafeXml) return false;
  // Without configured identities every caller is the anonymous admin: that is no reason to trust its XML.
  return ctx.identity.kind === 'anonymous' || !ctx.identity.can(UNSAFE_PRIVILEGE, host);
}

/** Runs the host-safety policy on an already parsed document. */
export async function checkHostSafety(
  ctx: GatewayContext,
  host: string,
  kind: ClientDocumentKind,
  field: string,
  root: XmlElement,
  baseline?: XmlElement,
): Promise<void> {
  if (!policyApplies(ctx, host)) return;
  try {
    await checkClientDocument(root, kind, settingsOf(ctx), hostInventory(ctx, host), baseline);
  } catch (e) {
    if (e instanceof UnsafeInputError) throw unsafeInput(e, field);
    throw e;
  }
}

/**
 * A client's XML argument, size-capped, parsed and checked against the host-safety policy
 * before libvirt sees it: INVALID_INPUT when too large or malformed, UNSAFE_INPUT when the
 * operator's config does not allow what it asks of the host.
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
  await checkHostSafety(ctx, host, kind, field, root);
  return root;
}

/** A client's XML argument, size-capped and parsed, for requests that give nothing to the host (detach). */
export function parsedClientXml(ctx: GatewayContext, field: string, xml: string): XmlElement {
  checkXmlSize(ctx, field, xml);
  return parsedArgument(field, () => documentElement(parseXmlNodes(xml)));
}

/** The root of XML the gateway built itself, checked like a client's (its values came from the client). */
export function checkBuiltXml(ctx: GatewayContext, host: string, kind: ClientDocumentKind, field: string, xml: string) {
  return checkHostSafety(ctx, host, kind, field, documentElement(parseXmlNodes(xml)));
}

/**
 * A host path argument (a save file) under the host-safety policy: inside the configured storage
 * roots or the host's pool targets, else UNSAFE_INPUT. With `notAVolume`, a path that is one of the
 * host's storage volumes is INVALID_INPUT: writing there would overwrite a disk.
 */
export async function safeClientPath(
  ctx: GatewayContext,
  host: string,
  field: string,
  path: string,
  options: { notAVolume?: boolean } = {},
): Promise<void> {
  const inventory = hostInventory(ctx, host);
  if (options.notAVolume && (await inventory.isVolumePath(path))) {
    throw gatewayError('INVALID_INPUT', `${field}: ${path} is a storage volume; writing there would overwrite it`, {
      field,
    });
  }
  if (!policyApplies(ctx, host)) return;
  try {
    await checkClientPath(path, field, settingsOf(ctx), inventory);
  } catch (e) {
    if (e instanceof UnsafeInputError) throw unsafeInput(e, field);
    throw e;
  }
}
