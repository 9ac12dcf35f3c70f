import { describe, expect, it } from 'vitest';
import { Authenticator, createApiToken } from '../../src/auth/authenticator.ts';
import type { Identity } from '../../src/auth/identity.ts';
import { BUILT_IN_ROLES } from '../../src/auth/privileges.ts';
import { resolveConfig } from '../../src/config/config.ts';
import { LibvirtError } from '../../src/libvirt/index.ts';
import { refuseUsedUuid, withoutOtherNames } from '../../src/schema/core/define-conflicts.ts';
import { problemsOf } from '../support/config-problems.ts';

// Identity.can over grants narrowed to domains, pools and networks: the contract other code
// (the host-safety policy, lists, events) relies on.

const token = createApiToken();

async function identityWith(grants: Array<Record<string, unknown>>, roles: Record<string, string[]> = {}) {
  const config = await resolveConfig({
    auth: { tokens: [{ name: 'tenant', sha256: token.sha256 }], roles, grants },
  });
  return (await new Authenticator(config.security.auth).authenticate({
    authorization: `Bearer ${token.secret}`,
  })) as Identity;
}

describe('grants narrowed to pools and networks', () => {
  it('a narrowed grant gives each kind of privilege only on objects of that kind matching its globs', async () => {
    const id = await identityWith([
      {
        identity: 'tenant',
        role: 'admin',
        hosts: ['kvm*'],
        domains: ['team-a-*'],
        pools: ['team-a*'],
        networks: ['team-a*'],
      },
    ]);
    expect(id.can('VM.Config', 'kvm1', 'team-a-web')).toBe(true);
    expect(id.can('VM.Config', 'kvm1', 'team-b-web')).toBe(false);
    expect(id.can('VM.Config', 'kvm1')).toBe(false);
    expect(id.can('Storage.Use', 'kvm1', 'team-a')).toBe(true);
    expect(id.can('Storage.Allocate', 'kvm1', 'team-a-images')).toBe(true);
    expect(id.can('Storage.Audit', 'kvm1', 'default')).toBe(false);
    expect(id.can('Storage.Audit', 'kvm1')).toBe(false);
    expect(id.can('Network.Use', 'kvm1', 'team-a-lan')).toBe(true);
    expect(id.can('Network.Modify', 'kvm1', 'default')).toBe(false);
    // An object name of another kind does not count: a pool named like a domain glob is no domain.
    expect(id.can('Storage.Audit', 'kvm1', 'team-a-')).toBe(true);
    expect(id.can('VM.Audit', 'kvm1', 'team-a')).toBe(false);
    // Host-wide privileges are never given by a narrowed grant, nor another host.
    expect(id.can('Host.Audit', 'kvm1')).toBe(false);
    expect(id.can('Interface.Modify', 'kvm1', 'team-a-eth0')).toBe(false);
    expect(id.can('Sys.Unsafe', 'kvm1')).toBe(false);
    expect(id.can('VM.Config', 'other', 'team-a-web')).toBe(false);
  });

  it('a grant narrowed to domains only gives no storage or network privilege, and one narrowed to pools no VM privilege', async () => {
    const id = await identityWith([
      { identity: 'tenant', role: 'admin', domains: ['web'] },
      { identity: 'tenant', role: 'admin', hosts: ['s*'], pools: ['images'] },
    ]);
    expect(id.can('VM.Audit', 'kvm1', 'web')).toBe(true);
    expect(id.can('Storage.Use', 'kvm1', 'images')).toBe(false);
    expect(id.can('Network.Use', 'kvm1', 'lan')).toBe(false);
    expect(id.can('Storage.Use', 'store1', 'images')).toBe(true);
    expect(id.can('VM.Audit', 'store1', 'web')).toBe(true);
    expect(id.can('VM.Audit', 'store1', 'images')).toBe(false);
    expect(id.canSome('Storage.Audit', 'kvm1')).toBe(false);
    expect(id.canSome('Storage.Audit', 'store1')).toBe(true);
    expect(id.canSome('Network.Audit', 'store1')).toBe(false);
    expect(id.canSome('VM.Audit', 'kvm1')).toBe(true);
    expect(id.canAll('VM.Audit', 'kvm1')).toBe(false);
  });

  it('an unnarrowed grant holds its privileges on every object of its hosts, whatever object is named', async () => {
    const id = await identityWith([{ identity: 'tenant', role: 'operator', hosts: ['kvm1'] }]);
    expect(id.can('Storage.Use', 'kvm1')).toBe(true);
    expect(id.can('Storage.Use', 'kvm1', 'anything')).toBe(true);
    expect(id.can('Network.Audit', 'kvm1', 'lan')).toBe(true);
    expect(id.can('Network.Use', 'kvm1', 'lan')).toBe(false);
    expect(id.canAll('VM.Audit', 'kvm1')).toBe(true);
    expect(id.canAll('VM.Audit', 'kvm2')).toBe(false);
  });

  it('identities whose grants differ only in pools or networks do not share a scope', async () => {
    const base = { identity: 'tenant', role: 'viewer', domains: ['web'] };
    const scopes = await Promise.all(
      [base, { ...base, pools: ['a'] }, { ...base, pools: ['b'] }, { ...base, networks: ['a'] }].map(
        async (g) => (await identityWith([g])).scope,
      ),
    );
    expect(new Set(scopes).size).toBe(4);
  });

  it('built-in roles: viewer audits, operator also uses storage (save targets), admin holds Storage.Use and Network.Use', () => {
    expect(BUILT_IN_ROLES.viewer).not.toContain('Storage.Use');
    expect(BUILT_IN_ROLES.operator).toEqual(expect.arrayContaining(['VM.PowerMgmt', 'Storage.Use', 'Storage.Audit']));
    expect(BUILT_IN_ROLES.operator).not.toContain('Network.Use');
    expect(BUILT_IN_ROLES.admin).toEqual(expect.arrayContaining(['Storage.Use', 'Network.Use']));
  });

  it('the config refuses empty pool or network globs and unknown grant keys, naming them', async () => {
    const problems = await problemsOf(() =>
      resolveConfig({
        auth: {
          tokens: [{ name: 'tenant', sha256: token.sha256 }],
          grants: [
            { identity: 'tenant', role: 'viewer', pools: [] },
            { identity: 'tenant', role: 'viewer', networks: [''] },
            { identity: 'tenant', role: 'viewer', volumes: ['x'] },
          ],
        },
      }),
    );
    expect(problems.map((p) => p.path)).toEqual([
      'auth.grants[0].pools',
      'auth.grants[1].networks[0]',
      'auth.grants[2].volumes',
    ]);
  });
});

describe('define conflicts name no other object', () => {
  const existing = [
    { name: 'web', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa0' },
    { name: 'db', uuid: '4dea22b3-1d52-d8f3-2516-782e98ab3fa1' },
  ];
  const reworded = (message: string) => {
    try {
      withoutOtherNames('domain', 'team-a-x', existing)(new LibvirtError(message, 9, 10, 2));
    } catch (e) {
      return (e as Error).message;
    }
    return 'accepted';
  };

  it('a used UUID, in any spelling, is refused before libvirt is asked', () => {
    expect(() => refuseUsedUuid('4DEA22B31D52D8F32516782E98AB3FA1', existing)).toThrow(/^xml: UUID already in use$/);
    expect(() => refuseUsedUuid('4dea22b3-1d52-d8f3-2516-782e98ab3fa2', existing)).not.toThrow();
    expect(() => refuseUsedUuid(undefined, existing)).not.toThrow();
  });

  it('libvirt’s messages quoting another object or its UUID lose it; others pass unchanged', () => {
    expect(
      reworded("operation failed: domain 'db' is already defined with uuid 4dea22b3-1d52-d8f3-2516-782e98ab3fa1"),
    ).toBe('xml: UUID already in use');
    expect(
      reworded("operation failed: domain 'team-a-x' already exists with uuid 4dea22b3-1d52-d8f3-2516-782e98ab3fa0"),
    ).toBe('xml: a domain named team-a-x already exists');
    expect(reworded("Requested operation is not valid: disk in use by domain 'web'")).toBe(
      'xml: conflicts with another domain of the host',
    );
    expect(reworded('internal error: unknown machine type')).toBe('internal error: unknown machine type');
  });
});
