import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getNamedType, isInputObjectType, isInterfaceType, isObjectType } from 'graphql';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { Secret } from '../../src/libvirt/index.ts';
import { parseStoragePoolXml } from '../../src/libvirt/xml/storage-pool-xml.ts';
import { isSecretHolding } from '../../src/schema/core/errors.ts';
import { printedSchema, schema } from '../../src/schema/index.ts';
import { type GraphQLResponse, startGateway, type TestGateway } from '../support/gateway.ts';
import { DIR_POOL, openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';
import { virsh } from '../support/run-command.ts';

// libvirt's secrets through the gateway, on the private libvirtd (the test driver has no secret
// driver). A value is set, never read back: the test reads it with virsh on the daemon itself
// (a non-private secret) to see the right bytes arrived, and looks for it in every response,
// log line and audit record the gateway wrote.

const skip = privateDaemonSkipReason();
if (skip) console.warn(`skipping the secret cases: ${skip}`);

const keeper = createApiToken();
const viewer = createApiToken();

const VALUE = 'correct-horse-battery-staple-7f3a9c';
const BINARY = Buffer.from([0, 1, 2, 250, 251, 252, 0, 42]);

const DEFINE = `mutation ($input: DefineSecretInput!) {
  defineSecret(input: $input) { id uuid usageType usageId description ephemeral private }
}`;
const SET = `mutation ($input: SetSecretValueInput!) { setSecretValue(input: $input) { uuid usageId } }`;
const UNDEFINE = `mutation ($input: UndefineSecretInput!) { undefineSecret(input: $input) { uuid name deletedId } }`;
const LIST = '{ host { secrets { uuid usageType usageId } } }';

interface SecretFields {
  id: string;
  uuid: string;
  usageType: string;
  usageId: string | null;
  description: string | null;
  ephemeral: boolean;
  private: boolean;
}

describe.skipIf(skip !== undefined)('secrets on a private libvirtd', () => {
  let gw: TestGateway;
  let dir: string;
  let auditFile: string;
  const logLines: string[] = [];
  const responses: string[] = [];
  const as = (token: { secret: string }) => ({ authorization: `Bearer ${token.secret}` });
  const call = async (token: { secret: string }, query: string, variables?: Record<string, unknown>) => {
    const res = await gw.query(query, variables, as(token));
    responses.push(JSON.stringify(res));
    return res;
  };
  const ok = async <D>(token: { secret: string }, query: string, variables?: Record<string, unknown>) => {
    const res = (await call(token, query, variables)) as GraphQLResponse<D>;
    expect(res.errors, JSON.stringify(res.errors)).toBeUndefined();
    return res.data as D;
  };
  const uri = () => privateDaemon()?.uri as string;
  const defined: string[] = [];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'virtql-secrets-'));
    auditFile = join(dir, 'audit.jsonl');
    const logger = pino({ level: 'debug' }, { write: (line: string) => void logLines.push(line) });
    gw = await startGateway({ qemu: uri() }, undefined, {
      logger,
      config: {
        auth: {
          tokens: [
            { name: 'keeper', sha256: keeper.sha256 },
            { name: 'viewer', sha256: viewer.sha256 },
          ],
          // Sys.Secrets without Sys.Unsafe: the host-safety policy applies to a volume secret's path.
          roles: { keeper: ['Sys.Secrets', 'Storage.Audit', 'Storage.Use'] },
          grants: [
            { identity: 'keeper', role: 'keeper' },
            { identity: 'viewer', role: 'viewer' },
          ],
        },
        audit: { file: auditFile },
      },
    });
  });
  afterAll(async () => {
    const c = await openPrivateDaemon().catch(() => undefined);
    if (c) for (const uuid of defined) await (await Secret.byUuid(c, uuid).catch(() => undefined))?.undefine();
    await c?.close();
    await gw?.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function define(input: Record<string, unknown>): Promise<SecretFields> {
    const data = await ok<{ defineSecret: SecretFields }>(keeper, DEFINE, { input });
    defined.push(data.defineSecret.uuid);
    return data.defineSecret;
  }

  it('defines a secret, lists it and finds it by global ID', async () => {
    const s = await define({ usage: { type: 'CEPH', name: 'client.virtql-a' }, description: 'rbd key' });
    expect(s).toMatchObject({
      usageType: 'CEPH',
      usageId: 'client.virtql-a',
      description: 'rbd key',
      ephemeral: false,
      private: true,
    });
    const list = await ok<{ host: { secrets: Array<{ uuid: string; usageType: string; usageId: string }> } }>(
      keeper,
      LIST,
    );
    expect(list.host.secrets).toContainEqual({ uuid: s.uuid, usageType: 'CEPH', usageId: 'client.virtql-a' });
    const node = await ok<{ node: { uuid: string } }>(
      keeper,
      'query ($id: ID!) { node(id: $id) { ... on Secret { uuid } } }',
      {
        id: s.id,
      },
    );
    expect(node.node).toEqual({ uuid: s.uuid });
  });

  it('sets a value (text or base64) that arrives byte for byte and is never shown again', async () => {
    const s = await define({ usage: { type: 'TLS', name: 'virtql-tls-b' }, private: false });
    await ok(keeper, SET, { input: { secret: { uuid: s.uuid }, value: VALUE } });
    expect((await virsh(uri(), 'secret-get-value', s.uuid)).trim()).toBe(Buffer.from(VALUE).toString('base64'));
    await ok(keeper, SET, { input: { secret: { id: s.id }, value: BINARY.toString('base64'), encoding: 'BASE64' } });
    expect((await virsh(uri(), 'secret-get-value', s.uuid)).trim()).toBe(BINARY.toString('base64'));
    // No field anywhere could return one: SecretValue is input only, and Secret has no value.
    const sdl = printedSchema();
    const secretType = /type Secret implements Node \{[^}]*\}/.exec(sdl)?.[0] ?? '';
    expect(secretType).not.toMatch(/^\s+value\b/m);
    const outputs = Object.values(schema.getTypeMap()).flatMap((type) =>
      isObjectType(type) || isInterfaceType(type)
        ? Object.values(type.getFields()).filter((f) => getNamedType(f.type).name === 'SecretValue')
        : [],
    );
    expect(outputs.map((f) => f.name)).toEqual([]);
  });

  it('marks every input type that can carry a value, so coercion errors never repeat one', () => {
    const holding = new Set(['SecretValue']);
    // Input types holding a SecretValue, directly or through another input type.
    for (let grew = true; grew; ) {
      grew = false;
      for (const type of Object.values(schema.getTypeMap())) {
        if (!isInputObjectType(type) || holding.has(type.name)) continue;
        if (Object.values(type.getFields()).some((f) => holding.has(getNamedType(f.type).name))) {
          holding.add(type.name);
          grew = true;
        }
      }
    }
    expect([...holding].sort()).toEqual(['SecretValue', 'SetSecretValueInput']);
    for (const name of holding) expect(isSecretHolding(name), name).toBe(true);
  });

  it('keeps the value out of errors, logs and audit records', async () => {
    // Not private, so the daemon's own virsh can show the refusals below changed nothing.
    const s = await define({ usage: { type: 'VTPM', name: 'virtql-vtpm-c' }, private: false });
    await ok(keeper, SET, { input: { secret: { uuid: s.uuid }, value: VALUE } });
    const stored = (await virsh(uri(), 'secret-get-value', s.uuid)).trim();
    // Refusals graphql-js itself would echo the variable for: an unknown field, a wrong type.
    const extra = await call(keeper, SET, { input: { secret: { uuid: s.uuid }, value: VALUE, bogus: 1 } });
    expect(extra.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT' });
    const missing = await call(keeper, SET, { input: { value: VALUE } });
    expect(missing.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT' });
    const wrongType = await call(
      keeper,
      'mutation ($v: SecretValue!) { setSecretValue(input: { secret: { uuid: "x" }, value: $v }) { uuid } }',
      {
        v: 8675309,
      },
    );
    expect(wrongType.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT' });
    expect(JSON.stringify(wrongType)).not.toContain('8675309');
    const literal = await call(
      keeper,
      'mutation { setSecretValue(input: { secret: { uuid: "x" }, value: 8675309 }) { uuid } }',
    );
    expect(JSON.stringify(literal)).not.toContain('8675309');
    // Refusals of the gateway's own: a bad UUID, base64 that is not, a value too large.
    const badUuid = await call(keeper, SET, { input: { secret: { uuid: 'not-a-uuid' }, value: VALUE } });
    expect(badUuid.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'secret.uuid' });
    const badBase64 = await call(keeper, SET, {
      input: { secret: { uuid: s.uuid }, value: `${VALUE}!`, encoding: 'BASE64' },
    });
    expect(badBase64.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'value' });
    const huge = `${VALUE}${'x'.repeat(70_000)}`;
    const tooLarge = await call(keeper, SET, { input: { secret: { uuid: s.uuid }, value: huge } });
    expect(tooLarge.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'value' });
    // A secret that does not exist: libvirt is asked nothing, NOT_FOUND.
    const gone = await call(keeper, SET, {
      input: { secret: { uuid: '00000000-0000-4000-8000-00000000dead' }, value: VALUE },
    });
    expect(gone.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND' });

    expect((await virsh(uri(), 'secret-get-value', s.uuid)).trim()).toBe(stored);

    const audit = await readFile(auditFile, 'utf8');
    const sets = audit
      .split('\n')
      .filter((l) => l.includes('"setSecretValue"'))
      .map((l) => JSON.parse(l) as { arguments: Record<string, unknown>; result: string });
    expect(sets.length).toBeGreaterThan(3);
    expect(sets.some((r) => r.result === 'ok')).toBe(true);
    for (const r of sets.filter((r) => 'value' in r.arguments))
      expect(r.arguments.value).toBe('(secret value, not recorded)');
    // Which secret was set stays readable.
    expect(sets.filter((r) => r.result === 'ok').map((r) => r.arguments.secret)).toContainEqual({ uuid: s.uuid });
    for (const text of [audit, logLines.join(''), responses.join('\n')]) {
      expect(text).not.toContain(VALUE);
      expect(text).not.toContain(BINARY.toString('base64'));
      expect(text).not.toContain('8675309');
    }
  });

  it('refuses bad definitions with INVALID_INPUT naming the field, and defines nothing', async () => {
    const before = await ok<{ host: { secrets: unknown[] } }>(keeper, LIST);
    const unknownType = await call(keeper, DEFINE, { input: { usage: { type: 'SMB', name: 'x' } } });
    expect(unknownType.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: '$input.usage.type' });
    const wrongField = await call(keeper, DEFINE, { input: { usage: { type: 'CEPH', volume: '/var/lib/x.img' } } });
    expect(wrongField.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'usage.volume' });
    const noName = await call(keeper, DEFINE, { input: { usage: { type: 'TLS' } } });
    expect(noName.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'usage.name' });
    const badUuid = await call(keeper, UNDEFINE, { input: { secret: { uuid: '12345' } } });
    expect(badUuid.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field: 'secret.uuid' });
    // A volume's passphrase names storage: a path outside every pool is the host-safety policy's refusal.
    const outside = await call(keeper, DEFINE, { input: { usage: { type: 'VOLUME', volume: '/etc/shadow' } } });
    expect(outside.errors?.[0]?.extensions).toMatchObject({ code: 'UNSAFE_INPUT', field: 'usage.volume' });
    // Odd spellings that leave the pool, or are not absolute, are refused the same way.
    const c = await openPrivateDaemon();
    const poolDir = parseStoragePoolXml(await (await c.storagePoolByName(DIR_POOL)).xml()).targetPath as string;
    await c.close();
    for (const volume of [
      `${poolDir}/../../../etc/shadow`,
      `${poolDir}/./../../../etc/shadow`,
      `${poolDir}//..//..//..//etc/shadow`,
      `${poolDir}/x/../../../../etc/shadow`,
      './x.img',
      'x.img',
    ]) {
      const odd = await call(keeper, DEFINE, { input: { usage: { type: 'VOLUME', volume } } });
      expect(['UNSAFE_INPUT', 'INVALID_INPUT'], volume).toContain(odd.errors?.[0]?.extensions?.code);
      expect(odd.errors?.[0]?.extensions?.field, volume).toBe('usage.volume');
    }
    // The same usage twice: libvirt's refusal, as INVALID_INPUT.
    await define({ usage: { type: 'CEPH', name: 'client.virtql-dup' } });
    const dup = await call(keeper, DEFINE, { input: { usage: { type: 'CEPH', name: 'client.virtql-dup' } } });
    expect(dup.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT' });
    const after = await ok<{ host: { secrets: unknown[] } }>(keeper, LIST);
    expect(after.host.secrets.length).toBe(before.host.secrets.length + 1);
  });

  it('is FORBIDDEN to a caller without Sys.Secrets, who sees no secret', async () => {
    const s = await define({ usage: { type: 'ISCSI', target: 'iqn.2026-01.org.virtql:e' } });
    for (const query of [LIST, `{ host { secret(ref: { uuid: "${s.uuid}" }) { uuid } } }`]) {
      const res = await call(viewer, query);
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Sys.Secrets' });
    }
    const node = await call(viewer, 'query ($id: ID!) { node(id: $id) { id } }', { id: s.id });
    expect(node.data).toEqual({ node: null });
    for (const [query, input] of [
      [DEFINE, { usage: { type: 'CEPH', name: 'client.virtql-viewer' } }],
      [SET, { secret: { uuid: s.uuid }, value: VALUE }],
      [UNDEFINE, { secret: { uuid: s.uuid } }],
    ] as const) {
      const res = await call(viewer, query, { input });
      expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'FORBIDDEN', privilege: 'Sys.Secrets' });
    }
    const list = await ok<{ host: { secrets: Array<{ uuid: string; usageId: string }> } }>(keeper, LIST);
    expect(list.host.secrets.map((x) => x.uuid)).toContain(s.uuid);
    expect(list.host.secrets.map((x) => x.usageId)).not.toContain('client.virtql-viewer');
  });

  it('undefines a secret', async () => {
    const s = await define({ usage: { type: 'NONE' } });
    const res = await ok<{ undefineSecret: { uuid: string; deletedId: string } }>(keeper, UNDEFINE, {
      input: { secret: { id: s.id } },
    });
    expect(res.undefineSecret).toMatchObject({ uuid: s.uuid, deletedId: s.id });
    const list = await ok<{ host: { secrets: Array<{ uuid: string }> } }>(keeper, LIST);
    expect(list.host.secrets.map((x) => x.uuid)).not.toContain(s.uuid);
  });
});
