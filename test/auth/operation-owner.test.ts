import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';

// A tracked operation answers the identity that started it, or Sys.Audit; another identity with
// the same role may not read or cancel it.

const tokens = { mover: createApiToken(), other: createApiToken(), admin: createApiToken() };
let gw: TestGateway;

beforeAll(async () => {
  gw = await startGateway({ fixture: fixtureUri }, undefined, {
    config: {
      auth: {
        tokens: Object.entries(tokens).map(([name, t]) => ({ name, sha256: t.sha256 })),
        roles: { mover: ['VM.Audit', 'VM.Migrate'] },
        grants: [
          { identity: 'mover', role: 'mover' },
          { identity: 'other', role: 'mover' },
          { identity: 'admin', role: 'admin' },
        ],
      },
    },
  });
});
afterAll(async () => {
  await gw.close();
});

const as = (who: keyof typeof tokens) => (query: string, variables?: Record<string, unknown>) =>
  gw.query(query, variables, { authorization: `Bearer ${tokens[who].secret}` });

describe('tracked operations and who may follow them', () => {
  it('the starter and Sys.Audit read it; another identity of the same role gets FORBIDDEN naming Sys.Audit', async () => {
    const started = await as('mover')(
      'mutation { startMigration(input: { domain: { name: "web" }, destination: { host: "fixture" } }) { id } }',
    );
    expect(started.errors).toBeUndefined();
    const { id } = (started.data as { startMigration: { id: string } }).startMigration;
    const read = 'query($id: ID!) { operation(id: $id) { id kind } }';

    expect((await as('mover')(read, { id })).data).toEqual({ operation: { id, kind: 'MIGRATION' } });
    expect((await as('admin')(read, { id })).data).toEqual({ operation: { id, kind: 'MIGRATION' } });
    const refused = await as('other')(read, { id });
    expect(refused.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Sys.Audit' });
    const cancel = await as('other')('mutation($id: ID!) { cancelOperation(input: { id: $id }) { status } }', { id });
    expect(cancel.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Sys.Audit' });
  });

  it('an unknown operation id is NOT_FOUND', async () => {
    const res = await as('other')('{ operation(id: "no-such-operation") { id } }');
    expect(res.errors?.[0]?.extensions?.code).toBe('NOT_FOUND');
  });
});
