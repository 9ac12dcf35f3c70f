import type { Privilege } from '../../auth/privileges.ts';
import { parseDomainXml } from '../../libvirt/xml/domain-xml.ts';
import type { GatewayContext } from './context.ts';
import { parsedArgument } from './errors.ts';
import { hostName } from './hosts.ts';
import { checkXmlSize } from './xml-size.ts';

// The authScopes of fields, by what they act on. Each resolves the host (and domain) the way the
// resolver will, so an object the caller may not see is NOT_FOUND or UNKNOWN_HOST, never FORBIDDEN.

interface HostArgs {
  host?: string | null;
}

/** The privilege on the host named by the `host` argument (the default host when omitted). */
export function onHostArg(privilege: Privilege) {
  return (_parent: unknown, args: HostArgs, ctx: GatewayContext) => ({
    privilege: { privilege, host: hostName(ctx, args.host) },
  });
}

/** The privilege on the host a parent object lives on. */
export function onParentHost(privilege: Privilege) {
  return (parent: { host?: string; name?: string }, _args: unknown, ctx: GatewayContext) => ({
    privilege: { privilege, host: hostName(ctx, parent.host ?? parent.name) },
  });
}

/** A VM privilege for a domain that does not exist yet, by the name its input gives. */
export function onNewDomain(privilege: Privilege) {
  return (_parent: unknown, args: HostArgs & { domain?: { name: string }; xml?: string }, ctx: GatewayContext) => {
    const host = hostName(ctx, args.host);
    if (args.xml) checkXmlSize(ctx, 'xml', args.xml);
    const domain =
      args.domain?.name ??
      (args.xml ? parsedArgument('xml', () => parseDomainXml(args.xml as string)).name : undefined);
    return { privilege: { privilege, host, ...(domain === undefined ? {} : { domain }) } };
  };
}

/** A privilege held on some object of the host named by `host`, or of any host when it is omitted: event streams then filter per object. */
export function somewhereOnHostArg(privilege: Privilege) {
  return (_parent: unknown, args: HostArgs, ctx: GatewayContext) => ({
    somewhere: { privilege, ...(args.host == null ? {} : { host: hostName(ctx, args.host) }) },
  });
}

/** A privilege held on some object of the host named by `host` (the default host when omitted): the lookup that follows finds only what the caller may see. */
export function somewhereOnHostNamed(privilege: Privilege) {
  return (_parent: unknown, args: HostArgs, ctx: GatewayContext) => ({
    somewhere: { privilege, host: hostName(ctx, args.host) },
  });
}

/**
 * A privilege on one existing object (a pool, a network, a volume's pool), found by `find` the
 * way the resolver will find it, so what the caller may not see is NOT_FOUND and never FORBIDDEN,
 * as for domains (onDomainArg).
 */
export function onObject<A extends HostArgs>(
  privilege: Privilege,
  kind: 'pool' | 'network',
  find: (ctx: GatewayContext, host: string, args: A) => Promise<string>,
) {
  return async (_parent: unknown, args: A, ctx: GatewayContext) => {
    const host = hostName(ctx, args.host);
    return { privilege: { privilege, host, [kind]: await find(ctx, host, args) } };
  };
}

/** A privilege for an object that does not exist yet (a pool or network), by the name its input or XML gives. */
export function onNewObject<A extends HostArgs>(
  privilege: Privilege,
  kind: 'pool' | 'network',
  nameOf: (args: A) => string,
) {
  return (_parent: unknown, args: A & { xml?: string }, ctx: GatewayContext) => {
    const host = hostName(ctx, args.host);
    if (args.xml) checkXmlSize(ctx, 'xml', args.xml);
    return { privilege: { privilege, host, [kind]: nameOf(args) } };
  };
}

/** A privilege held on some object of the parent's host: the list that follows filters per object. */
export function somewhereOnParentHost(privilege: Privilege) {
  return (parent: { name: string }, _args: unknown, ctx: GatewayContext) => ({
    somewhere: { privilege, host: hostName(ctx, parent.name) },
  });
}
