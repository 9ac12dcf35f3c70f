import { mkdtemp, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

interface Change {
  previousState: string;
  state: string;
  domain: { name: string; state: string; stateReason: string; hasManagedSave: boolean };
}
const CHANGE = 'previousState state domain { name state stateReason hasManagedSave }';

describe('save, restore and managed save on the test driver', () => {
  let gw: TestGateway;
  let dir: string;

  async function ok<D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<D> {
    const res = await gw.query<D>(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data as D;
  }

  async function refused(query: string, variables?: Record<string, unknown>) {
    const res = await gw.query(query, variables);
    expect(Object.values(res.data ?? {})).toEqual([null]);
    return res.errors?.[0] as { message: string; extensions: Record<string, unknown> };
  }

  const web = async () =>
    (
      await ok<{ domain: Change['domain'] }>(
        '{ domain(ref: { name: "web" }) { name state stateReason hasManagedSave } }',
      )
    ).domain;

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'virtql-save-'));
    gw = await startGateway({ fixture: fixtureUri }, undefined, { config: { storage: { allowedPaths: [dir] } } });
  });
  afterEach(async () => {
    await gw.close();
    await rm(dir, { recursive: true, force: true });
  });

  it('managedSaveDomain stops the domain with an image that startDomain resumes from', async () => {
    expect((await web()).hasManagedSave).toBe(false);
    const saved = await ok<{ managedSaveDomain: Change }>(
      `mutation { managedSaveDomain(input: { domain: { name: "web" } }) { ${CHANGE} } }`,
    );
    expect(saved.managedSaveDomain).toEqual({
      previousState: 'RUNNING',
      state: 'SHUTOFF',
      domain: { name: 'web', state: 'SHUTOFF', stateReason: 'SAVED', hasManagedSave: true },
    });
    const started = await ok<{ startDomain: Change }>(
      `mutation { startDomain(input: { domain: { name: "web" } }) { ${CHANGE} } }`,
    );
    // The image is consumed by the start (the test driver reports the reason as BOOTED; QEMU's case checks RESTORED).
    expect(started.startDomain.domain).toMatchObject({ name: 'web', state: 'RUNNING', hasManagedSave: false });
  });

  it('removeManagedSave discards the image: the next start boots afresh', async () => {
    await ok('mutation { managedSaveDomain(input: { domain: { name: "web" } }) { state } }');
    const removed = await ok<{ removeManagedSave: { hasManagedSave: boolean } }>(
      'mutation { removeManagedSave(input: { domain: { name: "web" } }) { hasManagedSave } }',
    );
    expect(removed.removeManagedSave.hasManagedSave).toBe(false);
    await ok('mutation { startDomain(input: { domain: { name: "web" } }) { state } }');
    expect(await web()).toMatchObject({ state: 'RUNNING', stateReason: 'BOOTED', hasManagedSave: false });
  });

  it('saveDomain writes a file that restoreDomain starts the domain from', async () => {
    const path = join(dir, 'web.save');
    const saved = await ok<{ saveDomain: Change }>(
      `mutation ($path: String!) { saveDomain(input: { domain: { name: "web" }, path: $path }) { ${CHANGE} } }`,
      { path },
    );
    expect(saved.saveDomain).toMatchObject({ previousState: 'RUNNING', state: 'SHUTOFF' });
    expect((await stat(path)).size).toBeGreaterThan(0);
    const restored = await ok<{ restoreDomain: Change }>(
      `mutation ($path: String!) { restoreDomain(input: { path: $path }) { ${CHANGE} } }`,
      { path },
    );
    expect(restored.restoreDomain).toEqual({
      previousState: 'SHUTOFF',
      state: 'RUNNING',
      domain: { name: 'web', state: 'RUNNING', stateReason: 'RESTORED', hasManagedSave: false },
    });
  });

  it('refuses bad inputs with typed errors and changes nothing', async () => {
    const save = 'mutation ($path: String!) { saveDomain(input: { domain: { name: "web" }, path: $path }) { state } }';
    // Outside the storage roots: the host-safety policy.
    expect((await refused(save, { path: '/etc/web.save' })).extensions).toMatchObject({
      code: 'UNSAFE_INPUT',
      path: '/etc/web.save',
      field: 'path',
    });
    // A storage volume: saving there would overwrite the disk.
    expect((await refused(save, { path: '/default-pool/web.img' })).extensions).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'path',
    });
    expect((await refused(save, { path: 'relative.save' })).extensions).toMatchObject({ code: 'INVALID_INPUT' });
    expect(
      (
        await refused(
          'mutation { managedSaveDomain(input: { domain: { name: "web" }, running: true, paused: true }) { state } }',
        )
      ).extensions,
    ).toMatchObject({ code: 'INVALID_INPUT', field: 'paused' });
    expect(
      (await refused('mutation { managedSaveDomain(input: { domain: { name: "db" } }) { state } }')).extensions.code,
    ).toBe('INVALID_STATE');
    expect(await web()).toEqual({ name: 'web', state: 'RUNNING', stateReason: 'UNKNOWN', hasManagedSave: false });

    const notASave = join(dir, 'junk.save');
    await writeFile(notASave, 'not a save image');
    const restore = 'mutation ($path: String!) { restoreDomain(input: { path: $path }) { state } }';
    expect((await refused(restore, { path: notASave })).extensions).toMatchObject({
      code: 'INVALID_INPUT',
      field: 'path',
    });
    expect((await refused(restore, { path: '/etc/passwd' })).extensions).toMatchObject({ code: 'UNSAFE_INPUT' });
  });
});
