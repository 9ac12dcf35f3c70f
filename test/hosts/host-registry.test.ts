import { pino } from 'pino';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import {
  HostRegistry,
  HostRegistryClosedError,
  type HostRegistryOptions,
  HostTimeoutError,
  type OpenConnection,
  UnknownHostError,
} from '../../src/hosts/host-registry.ts';
import { Connection, type EventListener, LibvirtError } from '../../src/libvirt/index.ts';
import { deferred, fixtureUri } from '../support/test-host.ts';

const silent = pino({ level: 'silent' });

async function createRegistry(raw: Record<string, unknown>, options: HostRegistryOptions = {}): Promise<HostRegistry> {
  return new HostRegistry(await resolveConfig(raw), { logger: silent, ...options });
}

const TWO_TEST_HOSTS = {
  hosts: [
    { name: 'a', uri: 'test:///default' },
    { name: 'b', driver: 'test', path: fixtureUri.slice('test://'.length) },
  ],
};

afterEach(() => {
  vi.restoreAllMocks();
  vi.useRealTimers();
});

describe('HostRegistry on the test driver', () => {
  it('names its hosts and opens nothing until asked', async () => {
    const open = vi.spyOn(Connection, 'open');
    const registry = await createRegistry({ ...TWO_TEST_HOSTS, defaultHost: 'b' });
    expect(registry.names()).toEqual(['a', 'b']);
    expect(registry.has('a')).toBe(true);
    expect(registry.has('c')).toBe(false);
    expect(registry.defaultName).toBe('b');
    expect(registry.uri('a')).toBe('test:///default');
    expect(registry.uri()).toBe(fixtureUri);
    expect(registry.status('a')).toEqual({ connected: false });
    expect(open).not.toHaveBeenCalled();
    await registry.close();
  });

  it('opens on first use, sets keepalive, and hands out the same connection after', async () => {
    const open = vi.spyOn(Connection, 'open');
    const keepAlive = vi.spyOn(Connection.prototype, 'setKeepAlive');
    const registry = await createRegistry(TWO_TEST_HOSTS);
    const first = await registry.connection('a');
    expect(await first.hypervisorType()).toBe('TEST');
    expect(await registry.connection('a')).toBe(first);
    expect(await registry.connection()).toBe(first);
    expect(open).toHaveBeenCalledTimes(1);
    expect(open).toHaveBeenCalledWith('test:///default', { username: undefined, password: undefined });
    // The test driver has no transport to keep alive: setKeepAlive answers false, and that is fine.
    expect(keepAlive).toHaveBeenCalledWith(5, 3);
    await expect(keepAlive.mock.results[0]?.value).resolves.toBe(false);
    expect(registry.status('a')).toEqual({ connected: true });
    expect(registry.status('b')).toEqual({ connected: false });
    await registry.close();
  });

  it('shares one open among 50 concurrent callers', async () => {
    const open = vi.spyOn(Connection, 'open');
    const registry = await createRegistry(TWO_TEST_HOSTS);
    const connections = await Promise.all(Array.from({ length: 50 }, () => registry.connection('b')));
    expect(new Set(connections).size).toBe(1);
    expect(open).toHaveBeenCalledTimes(1);
    expect((await connections[0]?.domains())?.length).toBeGreaterThan(0);
    await registry.close();
  });

  it('closes every connection, is idempotent, and refuses connections afterwards', async () => {
    const registry = await createRegistry(TWO_TEST_HOSTS);
    const disconnected: Array<[string, string]> = [];
    registry.on('disconnected', (host, reason) => disconnected.push([host, reason]));
    const a = await registry.connection('a');
    const b = await registry.connection('b');
    await registry.close();
    expect(a.closed).toBe(true);
    expect(b.closed).toBe(true);
    expect(disconnected).toEqual([
      ['a', 'registry closed'],
      ['b', 'registry closed'],
    ]);
    await registry.close();
    await expect(registry.connection('a')).rejects.toBeInstanceOf(HostRegistryClosedError);
    expect(registry.status('a').connected).toBe(false);
    expect(await registry.checkReady()).toEqual([
      { host: 'a', ok: false, error: expect.stringContaining('closed') },
      { host: 'b', ok: false, error: expect.stringContaining('closed') },
    ]);
  });

  it('rejects unknown host names with UnknownHostError', async () => {
    const registry = await createRegistry(TWO_TEST_HOSTS);
    const error = await registry.connection('nope').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(UnknownHostError);
    expect(error).toMatchObject({ host: 'nope', message: 'unknown host "nope" (configured: a, b)' });
    expect(() => registry.uri('nope')).toThrow(UnknownHostError);
    expect(() => registry.config('nope')).toThrow(UnknownHostError);
    expect(() => registry.status('nope')).toThrow(UnknownHostError);
    await registry.close();
  });

  it('shows a host config with its password redacted', async () => {
    const registry = await createRegistry({
      hosts: [{ name: 'lab', transport: 'tcp', host: '127.0.0.1', username: 'ops', password: 'hunter2' }],
    });
    const config = registry.config('lab');
    expect(config).toMatchObject({ name: 'lab', uri: 'qemu+tcp://ops@127.0.0.1/system', password: '[redacted]' });
    expect(JSON.stringify(config)).not.toContain('hunter2');
    await registry.close();
  });

  it('emits connected once per open, and survives a listener that throws', async () => {
    const registry = await createRegistry(TWO_TEST_HOSTS);
    const seen: Array<[string, Connection]> = [];
    registry.on('connected', () => {
      throw new Error('listener bug');
    });
    const off = registry.on('connected', (host, connection) => seen.push([host, connection]));
    const a = await registry.connection('a');
    await registry.connection('a');
    off();
    await registry.connection('b');
    expect(seen).toEqual([['a', a]]);
    await registry.close();
  });

  it('reports a failed open, and tries again on the next call', async () => {
    const open = vi.spyOn(Connection, 'open');
    const socket = '/nonexistent/virtql/libvirt-sock';
    const registry = await createRegistry({ hosts: [{ name: 'gone', transport: 'unix', params: { socket } }] });
    await expect(registry.connection('gone')).rejects.toBeInstanceOf(LibvirtError);
    expect(registry.status('gone')).toEqual({ connected: false, lastError: expect.stringContaining(socket) });
    await expect(registry.connection('gone')).rejects.toBeInstanceOf(LibvirtError);
    expect(open).toHaveBeenCalledTimes(2);
    expect(await registry.checkReady()).toEqual([
      { host: 'gone', ok: false, error: expect.stringContaining('No such file or directory') },
    ]);
    await registry.close();
  });

  it('is ready when every host opens and is alive', async () => {
    const registry = await createRegistry(TWO_TEST_HOSTS);
    expect(await registry.checkReady()).toEqual([
      { host: 'a', ok: true },
      { host: 'b', ok: true },
    ]);
    await registry.close();
  });
});

/** Stands in for a Connection where libvirt cannot be made to misbehave on cue. */
class FakeConnection {
  closed = false;
  alive = true;
  keepAlive: [number, number] | undefined;
  readonly listeners = new Set<EventListener>();

  async setKeepAlive(intervalSeconds: number, count: number): Promise<boolean> {
    this.keepAlive = [intervalSeconds, count];
    return true;
  }

  async subscribe(listener: EventListener): Promise<() => void> {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  async isAlive(): Promise<boolean> {
    if (this.closed) throw new Error('connection closed');
    return this.alive;
  }

  async close(): Promise<void> {
    this.closed = true;
    this.listeners.clear();
  }

  /** What the binding delivers when libvirt's close callback fires. */
  dropByLibvirt(reason: 'EOF' | 'KEEPALIVE' = 'EOF'): void {
    for (const listener of [...this.listeners]) listener({ kind: 'close', reason, receivedAt: new Date() });
  }
}

function asConnection(fake: FakeConnection): Connection {
  return fake as unknown as Connection;
}

/** An open function that answers from a script: a fake connection, an error, or a promise to settle later. */
function scriptedOpen(...script: Array<FakeConnection | Error | Promise<FakeConnection>>) {
  const calls: string[] = [];
  const open: OpenConnection = async (uri) => {
    calls.push(uri);
    const next = script.shift() ?? new FakeConnection();
    if (next instanceof Error) throw next;
    return asConnection(await next);
  };
  return { open, calls };
}

const ONE_HOST = { keepAlive: { intervalSeconds: 7, count: 2 }, hosts: [{ name: 'h', transport: 'tcp', host: 'h' }] };

describe('HostRegistry reconnecting', () => {
  it('passes the configured keepalive and credentials', async () => {
    const fake = new FakeConnection();
    const calls: unknown[] = [];
    const registry = await createRegistry(
      { hosts: [{ name: 'h', transport: 'tcp', host: 'h', username: 'ops', password: 'pw' }], keepAlive: { count: 9 } },
      {
        open: async (uri, options) => {
          calls.push([uri, options]);
          return asConnection(fake);
        },
      },
    );
    await registry.connection('h');
    expect(calls).toEqual([['qemu+tcp://ops@h/system', { username: 'ops', password: 'pw' }]]);
    expect(fake.keepAlive).toEqual([5, 9]);
    await registry.close();
  });

  it('drops a connection found dead and opens a new one on the next call', async () => {
    const [first, second] = [new FakeConnection(), new FakeConnection()];
    const { open, calls } = scriptedOpen(first, second);
    const registry = await createRegistry(ONE_HOST, { open, reconnect: { initialDelayMs: 60_000 } });
    const reasons: string[] = [];
    registry.on('disconnected', (_, reason) => reasons.push(reason));
    expect(await registry.connection('h')).toBe(asConnection(first));
    first.alive = false;
    expect(await registry.connection('h')).toBe(asConnection(second));
    expect(first.closed).toBe(true);
    expect(first.listeners.size).toBe(0);
    expect(reasons).toEqual(['connection is no longer alive']);
    expect(calls).toHaveLength(2);
    await registry.close();
    expect(second.closed).toBe(true);
  });

  it('reopens in the background after libvirt closes the connection, backing off up to the cap', async () => {
    vi.useFakeTimers();
    const [first, last] = [new FakeConnection(), new FakeConnection()];
    const refused = () => new Error('Failed to connect socket: Connection refused');
    const { open, calls } = scriptedOpen(first, refused(), refused(), refused(), last);
    const registry = await createRegistry(ONE_HOST, {
      open,
      reconnect: { initialDelayMs: 20, maxDelayMs: 50, jitter: 0 },
    });
    const events: string[] = [];
    registry.on('connected', (_, c) => events.push(c === asConnection(first) ? 'connected first' : 'connected last'));
    registry.on('disconnected', (_, reason) => events.push(`disconnected: ${reason}`));

    await registry.connection('h');
    expect(first.keepAlive).toEqual([7, 2]);
    first.dropByLibvirt('KEEPALIVE');
    expect(first.closed).toBe(true);
    expect(registry.status('h')).toEqual({
      connected: false,
      lastError: 'libvirt closed the connection (KEEPALIVE)',
    });

    // 20, 40, then 50 and 50 ms: doubling, capped.
    for (const [delay, opens] of [
      [20, 2],
      [40, 3],
      [50, 4],
      [50, 5],
    ] as const) {
      await vi.advanceTimersByTimeAsync(delay - 1);
      expect(calls).toHaveLength(opens - 1);
      await vi.advanceTimersByTimeAsync(1);
      expect(calls).toHaveLength(opens);
    }
    expect(registry.status('h')).toEqual({ connected: true });
    expect(events).toEqual([
      'connected first',
      'disconnected: libvirt closed the connection (KEEPALIVE)',
      'connected last',
    ]);
    // Connected again: no more attempts.
    await vi.advanceTimersByTimeAsync(1_000);
    expect(calls).toHaveLength(5);
    expect(await registry.connection('h')).toBe(asConnection(last));
    await registry.close();
    expect(last.closed).toBe(true);
  });

  it('stops reconnecting once closed', async () => {
    vi.useFakeTimers();
    const first = new FakeConnection();
    const { open, calls } = scriptedOpen(first, new Error('refused'), new Error('refused'));
    const registry = await createRegistry(ONE_HOST, { open, reconnect: { initialDelayMs: 10, jitter: 0 } });
    await registry.connection('h');
    first.dropByLibvirt();
    await vi.advanceTimersByTimeAsync(10);
    expect(calls).toHaveLength(2);
    await registry.close();
    await vi.advanceTimersByTimeAsync(10_000);
    expect(calls).toHaveLength(2);
  });

  it('closes a connection that finishes opening after close()', async () => {
    const late = deferred<FakeConnection>();
    const fake = new FakeConnection();
    const { open } = scriptedOpen(late.promise);
    const registry = await createRegistry(ONE_HOST, { open });
    const pending = registry.connection('h').catch((e: unknown) => e);
    const closing = registry.close();
    late.resolve(fake);
    await closing;
    expect(fake.closed).toBe(true);
    expect(await pending).toBeInstanceOf(HostRegistryClosedError);
  });

  it('gives up waiting after openTimeoutMs, keeps the open going, and caches what it brings', async () => {
    const late = deferred<FakeConnection>();
    const fake = new FakeConnection();
    const { open, calls } = scriptedOpen(late.promise);
    const registry = await createRegistry(ONE_HOST, { open, openTimeoutMs: 20 });
    const error = await registry.connection('h').catch((e: unknown) => e);
    expect(error).toBeInstanceOf(HostTimeoutError);
    expect(registry.status('h').lastError).toMatch(/took longer than 20 ms/);
    late.resolve(fake);
    await vi.waitFor(() => expect(registry.status('h').connected).toBe(true));
    expect(await registry.connection('h')).toBe(asConnection(fake));
    expect(calls).toHaveLength(1);
    await registry.close();
    expect(fake.closed).toBe(true);
  });

  it('bounds checkReady per host and close() on an open that never ends', async () => {
    const never = deferred<FakeConnection>();
    const fake = new FakeConnection();
    const registry = new HostRegistry(
      await resolveConfig({
        hosts: [
          { name: 'slow', transport: 'tcp', host: 'slow' },
          { name: 'quick', transport: 'tcp', host: 'quick' },
        ],
      }),
      {
        logger: silent,
        closeTimeoutMs: 20,
        open: async (uri) => asConnection(uri.includes('slow') ? await never.promise : new FakeConnection()),
      },
    );
    expect(await registry.checkReady(30)).toEqual([
      { host: 'slow', ok: false, error: 'checking the connection to host "slow" took longer than 30 ms' },
      { host: 'quick', ok: true },
    ]);
    await registry.close();
    // The open that outlived close() closes what it brings.
    never.resolve(fake);
    await vi.waitFor(() => expect(fake.closed).toBe(true));
  });

  it('treats a failing setKeepAlive as a failed open and closes the connection', async () => {
    const fake = new FakeConnection();
    fake.setKeepAlive = async () => {
      throw new Error('Cannot write data: Broken pipe');
    };
    const { open } = scriptedOpen(fake);
    const registry = await createRegistry(ONE_HOST, { open });
    await expect(registry.connection('h')).rejects.toThrow('Broken pipe');
    expect(fake.closed).toBe(true);
    expect(registry.status('h')).toEqual({ connected: false, lastError: 'Cannot write data: Broken pipe' });
    await registry.close();
  });
});
