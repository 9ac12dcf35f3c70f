import { hostOfGlobalId, keyOfGlobalId } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { invalidInput } from '../core/errors.ts';
import { hostName } from '../core/hosts.ts';
import { hostKey, splitHostKey } from '../core/request-cache.ts';
import { DomainNode, type DomainRefValue, type DomainShape } from './domain.ts';

/** How a mutation names an object that lives in a domain (a snapshot, a checkpoint): domain and name, or its global ID. */
export interface DomainChildArgs {
  host?: string | null;
  domain?: DomainRefValue | null;
  name?: string | null;
  id?: string | number | null;
}

/** The key of a domain's child within its host: the domain's UUID (36 characters), a slash, its name. */
export const domainChildKey = (host: string, uuid: string, name: string) => hostKey(host, `${uuid}/${name}`);

/** The domain and name a domain child's key holds (the key as domainChildKey writes it, without its host). */
export function splitDomainChildKey(key: string): { uuid: string; name: string } {
  return { uuid: key.slice(0, 36), name: key.slice(37) };
}

/**
 * The host, domain and name a mutation's input names: `domain` and `name` (on `host`), or the
 * child's global ID `id` (of node type `typeName`) alone, whose host it is.
 */
export function domainChildRef(
  ctx: GatewayContext,
  typeName: string,
  args: DomainChildArgs,
): { host: string; domain: DomainRefValue; name: string } {
  if (args.id != null) {
    if (args.domain != null || args.name != null) throw invalidInput('id', 'give id alone, or domain and name');
    const id = String(args.id);
    const host = hostName(ctx, args.host ?? hostOfGlobalId(id));
    const { uuid, name } = splitDomainChildKey(keyOfGlobalId(id, typeName, host, 'id'));
    return { host, domain: { uuid }, name };
  }
  if (args.domain == null) throw invalidInput('domain', 'give domain and name, or id');
  if (args.name == null) throw invalidInput('name', 'give domain and name, or id');
  return { host: hostName(ctx, args.host), domain: args.domain, name: args.name };
}

/**
 * A loadable node's `load` for a domain's children: each key's domain through the domain loader
 * (so a domain the caller may not audit has no children to find), then `find` in it; an error in
 * its own slot for a child, or a domain, that is not there.
 */
export function loadDomainChildren<C>(find: (ctx: GatewayContext, owner: DomainShape, name: string) => Promise<C>) {
  return (keys: string[], ctx: GatewayContext): Promise<Array<C | Error>> =>
    Promise.all(
      keys.map(async (key) => {
        const [host, rest] = splitHostKey(key);
        const { uuid, name } = splitDomainChildKey(rest);
        try {
          return await find(ctx, await DomainNode.getDataloader(ctx).load(hostKey(host, uuid)), name);
        } catch (e) {
          return e as Error;
        }
      }),
    );
}
