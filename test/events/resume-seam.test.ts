import pino from 'pino';
import { afterEach, expect, it } from 'vitest';
import { loadConfig } from '../../src/config/config.ts';
import { compareIds, decodeCursor, type EventHistory } from '../../src/events/event-history.ts';
import { EventHub } from '../../src/events/event-hub.ts';
import { createMemoryTransport } from '../../src/events/event-transport.ts';
import type { HubEvent } from '../../src/events/hub-event.ts';
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

it('holds live events while the missed ones are read, then sends each once, in order', async () => {
  const config = await loadConfig({ env: { VIRTQL_HOSTS: `lab=${fixtureUri}`, VIRTQL_DEFAULT_HOST: 'lab' } });
  const registry = new HostRegistry(config, { logger: pino({ level: 'silent' }) });
  const inner = createMemoryTransport();
  const gate = deferred<void>();
  let hold = false;
  // The history answers only once the gate opens, and then with what it holds by then.
  const history: EventHistory = {
    append: (host, event) => inner.history.append(host, event),
    since: async (host, id) => {
      if (hold) await gate.promise;
      return inner.history.since(host, id);
    },
    close: () => inner.history.close(),
  };
  const hub = new EventHub({ registry, transport: { ...inner, history } });
  closers.push(
    () => hub.close(),
    () => registry.close(),
  );
  const lab = await registry.connection('lab');
  const web = await lab.domainByName('web');
  const accept = (e: HubEvent) => e.name === 'web';

  const first = hub.subscribe(['lab'], { accept });
  await hub.settled();
  await web.suspend();
  const cursor = decodeCursor((await next(first)).cursor ?? '');
  expect(cursor?.host).toBe('lab');
  await first.return?.();

  await web.resume(); // missed
  hold = true;
  const resumed = hub.subscribe(['lab'], { accept, ...(cursor && { after: cursor }) });
  await hub.settled();
  const heard = deferred<void>();
  let count = 0;
  const off = hub.onHostEvent(() => {
    count += 1;
    if (count === 2) heard.resolve();
  });
  await web.suspend(); // during the replay: live (held) and in the history
  await web.resume();
  await heard.promise;
  off();
  gate.resolve();

  const events = [await next(resumed), await next(resumed), await next(resumed)];
  await web.suspend(); // live
  events.push(await next(resumed));
  expect(events.map((e) => e.type)).toEqual(['RESUMED', 'SUSPENDED', 'RESUMED', 'SUSPENDED']);
  const ids = events.map((e) => decodeCursor(e.cursor ?? '')?.id ?? '');
  for (let i = 1; i < ids.length; i++) expect(compareIds(ids[i - 1] as string, ids[i] as string)).toBe(-1);
  await resumed.return?.();
  await web.resume();
});
