import type { Scope } from '../libvirt/index.ts';
import { builder } from './builder.ts';
import type { GatewayContext } from './context.ts';
import { gatewayError } from './errors.ts';
import { Host } from './host.ts';
import { forgetReads } from './request-cache.ts';

export const DeviceScope = builder.enumType('DeviceScope', {
  description:
    'Where a device, memory or vCPU change applies. Omitted: the running domain when it runs, its persistent configuration when it is stopped.',
  values: {
    LIVE: { description: 'The running domain only (lost at shutdown).' },
    CONFIG: { description: 'The persistent configuration only (from the next start).' },
    BOTH: { description: 'The running domain and its persistent configuration.' },
  } as const,
});

export type DeviceScopeValue = 'LIVE' | 'CONFIG' | 'BOTH';

/** The libvirt scope for a requested one; no request means live when running, config when stopped. */
export function scopeFor(scope: DeviceScopeValue | null | undefined, active: boolean): Scope {
  if (scope === 'LIVE') return 'live';
  if (scope === 'CONFIG') return 'config';
  if (scope === 'BOTH') return 'both';
  return active ? 'live' : 'config';
}

export interface RemovedShape {
  host: string;
  name: string;
  uuid?: string;
  /** Paths of the storage volumes removed with it (undefineDomain with removeStorage). */
  removedVolumes?: string[];
}

export const RemovedObject = builder.objectRef<RemovedShape>('RemovedObject').implement({
  description: 'What an undefine or delete removed.',
  fields: (t) => ({
    host: t.field({
      type: Host,
      nullable: false,
      description: 'The host it was on.',
      resolve: (r) => ({ name: r.host }),
    }),
    name: t.exposeString('name', { nullable: false, description: 'Its name (or path, for a volume).' }),
    uuid: t.string({ description: 'Its UUID, where it had one.', resolve: (r) => r.uuid ?? null }),
    removedVolumes: t.stringList({
      description: 'For undefineDomain with removeStorage: the paths of the storage volumes deleted with it.',
      resolve: (r) => r.removedVolumes ?? null,
    }),
  }),
});

/**
 * Runs the steps of a multi-step change in order. When one fails, the undo of every step
 * that completed runs in reverse order (their own failures are ignored) and the original
 * error is thrown: nothing is left half done.
 */
export async function allOrNothing(steps: Array<{ run: () => Promise<unknown>; undo?: () => Promise<unknown> }>) {
  const done: Array<() => Promise<unknown>> = [];
  try {
    for (const step of steps) {
      await step.run();
      if (step.undo) done.push(step.undo);
    }
  } catch (e) {
    for (const undo of done.reverse()) await undo().catch(() => undefined);
    throw e;
  }
}

/** After a change: later fields of this request read libvirt afresh. */
export function changed(ctx: GatewayContext): void {
  forgetReads(ctx);
}

/**
 * An action on a network or storage pool that must be active (true), inactive (false) or
 * either (undefined); the wrong state is INVALID_STATE before libvirt is asked.
 */
export async function actOn<O extends { isActive(): Promise<boolean> }, S extends { object: O }>(
  ctx: GatewayContext,
  found: Promise<S>,
  what: string,
  mustBeActive: boolean | undefined,
  action: (o: O) => Promise<unknown>,
): Promise<S> {
  const s = await found;
  if (mustBeActive !== undefined && (await s.object.isActive()) !== mustBeActive) {
    throw gatewayError('INVALID_STATE', `${what} is ${mustBeActive ? 'not active' : 'already active'}`);
  }
  await action(s.object);
  changed(ctx);
  return s;
}
