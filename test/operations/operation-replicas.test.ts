import pino from 'pino';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { LibvirtError } from '../../src/libvirt/errors.ts';
import { type Operation, OperationTracker } from '../../src/operations/operation-tracker.ts';
import { createRedisOperations } from '../../src/operations/redis-operations.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { startRedis, stopRedis } from '../support/redis-server.ts';
import { deferred, fixtureUri } from '../support/test-host.ts';

// Two replicas sharing a real redis-server: an operation started on one is read, followed and
// cancelled from the other, and the owner-or-Sys.Audit rule holds there too.

const redis = await startRedis();
if ('unavailable' in redis) console.warn(`skipping the replica cases: ${redis.unavailable}`);
const noRedis = 'unavailable' in redis ? redis.unavailable : undefined;
const url = 'url' in redis ? redis.url : '';

afterAll(async () => {
  if ('process' in redis) await stopRedis(redis.process);
});

const closers: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const close of closers.splice(0).reverse()) await close();
});

async function replica(): Promise<OperationTracker> {
  const shared = createRedisOperations({ url, logger: pino({ level: 'silent' }) });
  const tracker = new OperationTracker({ pollMs: 20, shared });
  closers.push(() => tracker.close());
  await shared.ready();
  return tracker;
}

/** A task that runs until the test settles it, reporting whatever progress the test sets. */
function controlledTask() {
  const done = deferred<{ moved: string }>();
  const cancelled = deferred<void>();
  let progress: { fields: { data_processed: bigint } } | undefined;
  return {
    done,
    cancelled,
    setProgress: (processed: bigint) => {
      progress = { fields: { data_processed: processed } };
    },
    task: {
      kind: 'MIGRATION',
      owner: 'token:mover',
      run: () => done.promise,
      poll: async () => progress,
      cancel: async () => {
        cancelled.resolve();
        done.reject(new LibvirtError('operation aborted: migration job: canceled by client', 1, 10, 2));
      },
    },
  };
}

/** Reads a stream of updates until one passes `until`. */
async function nextUntil(stream: AsyncGenerator<Operation>, until: (op: Operation) => boolean): Promise<Operation> {
  for (;;) {
    const { value, done } = await stream.next();
    if (done) throw new Error('the update stream ended early');
    if (until(value)) return value;
  }
}

describe.skipIf(noRedis !== undefined)('tracked operations across replicas through Redis', () => {
  it('B reads and follows an operation running on A: progress (BigInt intact), then its result', async () => {
    const a = await replica();
    const b = await replica();
    const t = controlledTask();
    const op = await a.start(t.task);

    expect(await b.get(op.id)).toMatchObject({ id: op.id, kind: 'MIGRATION', owner: 'token:mover', status: 'RUNNING' });
    const stream = b.updates(op.id);
    expect((await stream.next()).value).toMatchObject({ id: op.id, status: 'RUNNING' });

    t.setProgress(12_345_678_901_234_567_890n);
    const progressed = await nextUntil(stream, (o) => o.progress !== undefined);
    expect(progressed.progress).toEqual({ fields: { data_processed: 12_345_678_901_234_567_890n } });
    expect(progressed.updatedAt).toBeInstanceOf(Date);

    t.done.resolve({ moved: 'web' });
    const finished = await nextUntil(stream, (o) => o.status !== 'RUNNING');
    expect(finished).toMatchObject({ status: 'COMPLETED', result: { moved: 'web' } });
    expect((await stream.next()).done).toBe(true);
    expect(await b.get(op.id)).toMatchObject({ status: 'COMPLETED', result: { moved: 'web' } });
  });

  it('cancelOperation on B reaches A, which aborts the task; B sees CANCELLED with the libvirt error', async () => {
    const a = await replica();
    const b = await replica();
    const t = controlledTask();
    const op = await a.start(t.task);
    const stream = b.updates(op.id);
    await stream.next();

    expect(await b.cancel(op.id)).toBe(true);
    await t.cancelled.promise;
    const ended = await nextUntil(stream, (o) => o.status !== 'RUNNING');
    expect(ended.status).toBe('CANCELLED');
    expect(ended.error).toBeInstanceOf(LibvirtError);
    expect(ended.error).toMatchObject({ codeName: 'INTERNAL_ERROR', message: expect.stringContaining('canceled') });
    // Only a running operation can be cancelled, wherever it is asked.
    expect(await b.cancel(op.id)).toBe(false);
    expect(await a.cancel(op.id)).toBe(false);
  });

  it('a cancel request for an operation whose replica has stopped answers false at once', async () => {
    const a = await replica();
    const b = await replica();
    const t = controlledTask();
    const op = await a.start(t.task);
    await a.close();
    expect(await b.cancel(op.id)).toBe(false);
    expect(await b.get('no-such-operation')).toBeUndefined();
    t.done.resolve({ moved: 'web' });
  });
});

describe.skipIf(noRedis !== undefined)('operation ownership across two gateways', () => {
  const tokens = { mover: createApiToken(), other: createApiToken(), admin: createApiToken() };
  const config = {
    auth: {
      tokens: Object.entries(tokens).map(([name, t]) => ({ name, sha256: t.sha256 })),
      roles: { mover: ['VM.Audit', 'VM.Migrate'] },
      grants: [
        { identity: 'mover', role: 'mover' },
        { identity: 'other', role: 'mover' },
        { identity: 'admin', role: 'admin' },
      ],
    },
  };
  const gateway = async (): Promise<TestGateway> => {
    const gw = await startGateway({ fixture: fixtureUri }, undefined, { config, redis: { url } });
    closers.push(() => gw.close());
    return gw;
  };
  const as = (gw: TestGateway, who: keyof typeof tokens) => (query: string, variables?: Record<string, unknown>) =>
    gw.query(query, variables, { authorization: `Bearer ${tokens[who].secret}` });

  it('a migration started on A is read on B by its starter and Sys.Audit only, with its outcome', async () => {
    const a = await gateway();
    const b = await gateway();
    // The test driver refuses a migration: the operation ends FAILED at once, on A.
    const started = await as(
      a,
      'mover',
    )('mutation { startMigration(input: { domain: { name: "web" }, destination: { host: "fixture" } }) { id } }');
    expect(started.errors).toBeUndefined();
    const { id } = (started.data as { startMigration: { id: string } }).startMigration;
    const onA = await as(a, 'mover')('query($id: ID!) { operation(id: $id) { status errorCode errorMessage } }', {
      id,
    });
    const ended = async () => {
      // Follow it on B until it ends (the subscription answers the final state and completes).
      const res = await b.app.yoga.fetch('http://localhost/graphql', {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          accept: 'text/event-stream',
          authorization: `Bearer ${tokens.mover.secret}`,
        },
        body: JSON.stringify({
          query: 'subscription($id: ID!) { operationUpdated(id: $id) { id status } }',
          variables: { id },
        }),
      });
      return res.text();
    };
    const stream = await ended();
    expect(stream).toContain('"status":"FAILED"');
    expect(stream).toContain('event: complete');

    const read = 'query($id: ID!) { operation(id: $id) { id kind status errorCode errorMessage } }';
    const onB = await as(b, 'mover')(read, { id });
    expect(onB.errors).toBeUndefined();
    expect(onB.data).toEqual({
      operation: { id, kind: 'MIGRATION', ...(onA.data as { operation: object }).operation },
    });
    expect((onB.data as { operation: { status: string } }).operation.status).toBe('FAILED');
    expect((await as(b, 'admin')(read, { id })).data).toMatchObject({ operation: { id, status: 'FAILED' } });

    const refused = await as(b, 'other')(read, { id });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Sys.Audit' });
    const cancel = 'mutation($id: ID!) { cancelOperation(input: { id: $id }) { status } }';
    expect((await as(b, 'other')(cancel, { id })).errors?.[0]?.extensions).toMatchObject({
      code: 'FORBIDDEN',
      privilege: 'Sys.Audit',
    });
    expect((await as(b, 'mover')(cancel, { id })).errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_STATE' });
    expect(
      (await as(b, 'other')('{ operation(id: "no-such-operation") { id } }')).errors?.[0]?.extensions,
    ).toMatchObject({ code: 'NOT_FOUND' });
  });
});
