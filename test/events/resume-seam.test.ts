import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { compareIds, decodeCursor, type EventHistory } from '../../src/events/event-history.ts';
import { EventHub } from '../../src/events/event-hub.ts';
import { createMemoryTransport } from '../../src/events/event-transport.ts';
import type { HubEvent } from '../../src/events/hub-event.ts';
import { SLOW_CONSUMER } from '../../src/events/subscriber-queue.ts';
import { HostRegistry } from '../../src/hosts/host-registry.ts';
import { deferred, fixtureUri } from '../support/test-host.ts';

// The seam between replay and live: events that happen while the history is being read reach the
// hub live (held) and are in the history too; each must come once, in order.

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0)) await close();
});

async function next(stream: AsyncIterableIterator<HubEvent>): Promise<HubEvent> {
  const { value, done } = await stream.next();
  if (done) throw new Error('the stream ended');
  return value;
}

const accept = (e: HubEvent) => e.name === 'web';

/** A hub whose history answers a resuming subscriber only once `gate` opens, with what it holds by then. */
async function heldHub(maxQueuedEvents?: number) {
  const config = await loadConfig({ env: { VIRTQL_HOSTS: `lab=${fixtureUri}`, VIRTQL_DEFAULT_HOST: 'lab' } });
  const registry = new HostRegistry(config, { logger: pino({ level: 'silent' }) });
  const inner = createMemoryTransport();
  const gate = deferred<void>();
  let hold = false;
  const history: EventHistory = {
    append: (host, event) => inner.history.append(host, event),
    since: async (host, id) => {
      if (hold) await gate.promise;
      return inner.history.since(host, id);
    },
    close: () => inner.history.close(),
  };
  const hub = new EventHub({ registry, transport: { ...inner, history }, ...(maxQueuedEvents && { maxQueuedEvents }) });
  closers.push(
    () => hub.close(),
    () => registry.close(),
  );
  const web = await (await registry.connection('lab')).domainByName('web');

  // A first subscriber takes the cursor of web's suspension, and goes.
  const first = hub.subscribe(['lab'], { accept });
  await hub.settled();
  await web.suspend();
  const cursor = decodeCursor((await next(first)).cursor ?? '');
  expect(cursor?.host).toBe('lab');
  await first.return?.();
  await web.resume(); // missed

  const resume = async () => {
    hold = true;
    const resumed = hub.subscribe(['lab'], { accept, ...(cursor && { after: cursor }) });
    await hub.settled();
    return resumed;
  };
  /** Suspends and resumes web, and resolves once the hub heard both. */
  const bounce = async () => {
    const heard = deferred<void>();
    let count = 0;
    const off = hub.onHostEvent(() => {
      count += 1;
      if (count === 2) heard.resolve();
    });
    await web.suspend();
    await web.resume();
    await heard.promise;
    off();
  };
  return { web, resume, bounce, open: () => gate.resolve() };
}

it('holds live events while the missed ones are read, then sends each once, in order', async () => {
  const { web, resume, bounce, open } = await heldHub();
  const resumed = await resume();
  await bounce(); // during the replay: live (held) and in the history
  open();
  const events = [await next(resumed), await next(resumed), await next(resumed)];
  await web.suspend(); // live
  events.push(await next(resumed));
  expect(events.map((e) => e.type)).toEqual(['RESUMED', 'SUSPENDED', 'RESUMED', 'SUSPENDED']);
  const ids = events.map((e) => decodeCursor(e.cursor ?? '')?.id ?? '');
  for (let i = 1; i < ids.length; i++) expect(compareIds(ids[i - 1] as string, ids[i] as string)).toBe(-1);
  await resumed.return?.();
  await web.resume();
});

it('holds no more live events than the subscriber’s queue: past it, the subscriber is dropped as too slow', async () => {
  const { resume, bounce } = await heldHub(1);
  const resumed = await resume();
  // The assertion is attached before the events come: the read is rejected while bounce() runs, and a
  // rejection nobody handles yet is reported as unhandled.
  const dropped = expect(resumed.next()).rejects.toMatchObject({ extensions: { code: SLOW_CONSUMER } });
  await bounce();
  await dropped;
});
