import type { Connection } from '../../libvirt/index.ts';
import { builder } from './builder.ts';
import type { GatewayContext } from './context.ts';
import { echoed, gatewayError } from './errors.ts';
import { perHost } from './request-cache.ts';

// The host every object hangs off: its GraphQL type (implemented in host/host.ts), which hosts a
// caller sees, and the connection to one. Here rather than in host/ because the auth scopes and the
// loaders in core/ need them too.

export interface HostShape {
  name: string;
}

/**
 * The host's connection, asked of the registry and checked alive once per request (a change made by
 * a mutation keeps it); a host the caller cannot see is UNKNOWN_HOST, as an unknown one is.
 */
export const connectionOf = perHost(
  (ctx, host): Promise<Connection> => {
    if (!isVisible(ctx, host)) {
      return Promise.reject(
        gatewayError('UNKNOWN_HOST', `host: no host named "${echoed(host)}" is configured`, {
          field: 'host',
          host: echoed(host),
        }),
      );
    }
    return ctx.hosts.connection(host);
  },
  { keep: true },
);

/** Whether the host is configured and the caller has a grant on it: otherwise it is as absent as an unknown one. */
export function isVisible(ctx: GatewayContext, host: string): boolean {
  return ctx.hosts.has(host) && ctx.identity.seesHost(host);
}

/** The host named by an optional `host` argument: the registry's default when omitted. */
export function hostName(ctx: GatewayContext, host: string | null | undefined): string {
  const name = host ?? ctx.hosts.defaultName;
  if (!isVisible(ctx, name)) {
    throw gatewayError('UNKNOWN_HOST', `host: no host named "${echoed(name)}" is configured`, {
      field: 'host',
      host: echoed(name),
    });
  }
  return name;
}

export const Host = builder.objectRef<HostShape>('Host');
