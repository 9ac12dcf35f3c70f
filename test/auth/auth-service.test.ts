import { describe, expect, it } from 'vitest';
import { AuthService } from '../../src/auth/auth-service.ts';
import type { AuthError } from '../../src/auth/authenticator.ts';
import { authSchema } from '../../src/config/security-schema.ts';
import { apiToken } from './auth-clients.ts';

const alice = apiToken('alice');
const bob = apiToken('bob');
const config = (...tokens: Array<ReturnType<typeof apiToken>>) =>
  authSchema.parse({
    tokens: tokens.map((t) => t.entry),
    grants: tokens.map((t) => ({ identity: t.name, role: 'viewer' })),
  });

describe('AuthService sessions', () => {
  it('a session authenticated before a reload that revoked it, but tracked after, still ends', async () => {
    const service = new AuthService(config(alice, bob));
    const credentials = { authorization: alice.bearer };
    // A WebSocket or SSE request authenticated, then SIGHUP landed before its session was tracked.
    const identity = await service.authenticate(credentials);
    await service.reload(config(bob));
    const ended = new Promise<AuthError>((resolve) => service.track(credentials, identity, resolve));
    expect(await ended).toMatchObject({ code: 'INVALID_TOKEN', message: expect.stringMatching(/revoked/) });
    expect(service.sessions).toBe(0);
  });

  it('a session whose token survives the reload stays, and untracking forgets it', async () => {
    const service = new AuthService(config(alice, bob));
    const credentials = { authorization: alice.bearer };
    const identity = await service.authenticate(credentials);
    await service.reload(config(alice));
    let ended: AuthError | undefined;
    const untrack = service.track(credentials, identity, (e) => (ended = e));
    await service.reload(config(alice, bob));
    expect(ended).toBeUndefined();
    expect(service.sessions).toBe(1);
    untrack();
    expect(service.sessions).toBe(0);
    await service.reload(config(bob));
    expect(ended).toBeUndefined();
  });

  it('reload ends each revoked session once, and only those', async () => {
    const service = new AuthService(config(alice, bob));
    const ends: string[] = [];
    for (const t of [alice, alice, bob]) {
      const credentials = { authorization: t.bearer };
      service.track(credentials, await service.authenticate(credentials), (e) => ends.push(`${t.name} ${e.code}`));
    }
    await service.reload(config(bob));
    await service.reload(config(bob));
    expect(ends).toEqual(['alice INVALID_TOKEN', 'alice INVALID_TOKEN']);
    expect(service.sessions).toBe(1);
  });

  it('refuses a reload that removes every identity: the gateway would let anyone in as admin', async () => {
    const service = new AuthService(config(alice));
    const credentials = { authorization: alice.bearer };
    let ended: AuthError | undefined;
    service.track(credentials, await service.authenticate(credentials), (e) => (ended = e));
    await expect(service.reload(config())).rejects.toThrow(/no tokens, jwt or certificates.*restart the gateway/);
    await expect(service.authenticate({})).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect((await service.authenticate(credentials)).name).toBe('alice');
    expect(ended).toBeUndefined();
  });

  it('turning identities on by reload ends the anonymous sessions', async () => {
    const service = new AuthService(config());
    let ended: AuthError | undefined;
    service.track({}, await service.authenticate({}), (e) => (ended = e));
    await service.reload(config(alice));
    expect(ended).toMatchObject({ code: 'UNAUTHENTICATED' });
  });
});
