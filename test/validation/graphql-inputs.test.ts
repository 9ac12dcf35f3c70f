import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/libvirt/index.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { type HostSnapshot, snapshotHost } from '../support/host-snapshot.ts';
import { fixtureUri } from '../support/test-host.ts';

/** The rules of src/validation as the GraphQL inputs run them: refused before libvirt, naming the field. */
describe('the GraphQL inputs run the validation rules', () => {
  let gw: TestGateway;
  let host: Connection;
  let before: HostSnapshot;

  beforeAll(async () => {
    gw = await startGateway({ default: fixtureUri });
    host = await gw.registry.connection('default');
    before = await snapshotHost(host);
  });
  afterAll(() => gw?.close());

  const longText = 'a'.repeat(4097);

  it.each<[string, string, Record<string, unknown>, string, string]>([
    [
      'createDomain: a description over 4096 characters',
      'mutation ($i: DomainInput!) { createDomain(input: { domain: $i }) { name } }',
      { i: { name: 'vm-long', description: longText } },
      'domain.description',
      'must be at most 4096 characters',
    ],
    [
      'defineDomain: a control character in the description',
      'mutation ($i: DomainInput!) { defineDomain(input: { domain: $i }) { name } }',
      { i: { name: 'vm-ctl', description: 'a\u001bb' } },
      'domain.description',
      'must not contain control characters',
    ],
    [
      'configureDomain: a description over 4096 characters',
      'mutation ($i: DomainConfigInput!) { configureDomain(input: { domain: { name: "db" }, config: $i }) { xml } }',
      { i: { description: longText } },
      'config.description',
      'must be at most 4096 characters',
    ],
    [
      'configureDomain: nothing to change',
      'mutation ($i: DomainConfigInput!) { configureDomain(input: { domain: { name: "db" }, config: $i }) { xml } }',
      { i: { vcpus: null } },
      'config',
      'must change at least one of vcpus, maxMemoryKiB or description',
    ],
    [
      'attachDisk: a format that is no image format',
      'mutation ($i: DiskInput!) { attachDisk(input: { domain: { name: "db" }, disk: $i }) { name } }',
      { i: { kind: 'FILE', sourcePath: '/var/lib/libvirt/images/x.img', targetDevice: 'vdb', format: '../raw' } },
      'disk.format',
      'must be an image format such as raw or qcow2',
    ],
    [
      'detachNetwork: a target device name no host NIC has',
      'mutation { detachNetwork(input: { domain: { name: "web" }, targetDevice: "vnet/0" }) { name } }',
      {},
      'targetDevice',
      'must be 1 to 15 letters',
    ],
  ])('%s is INVALID_INPUT', async (_label, query, variables, field, reason) => {
    const res = await gw.query(query, variables);
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'INVALID_INPUT', field });
    expect(String(res.errors?.[0]?.extensions?.reason)).toContain(reason);
  });

  it('accepts a description of 4096 characters', async () => {
    const res = await gw.query(
      'mutation ($d: String!) { configureDomain(input: { domain: { name: "db" }, config: { description: $d } }) { xml } }',
      { d: 'b'.repeat(4096) },
    );
    expect(res.errors).toBeUndefined();
    expect(await (await host.domainByName('db')).xml({ inactive: true })).toContain('b'.repeat(4096));
  });

  it('changed nothing when it refused', async () => {
    const after = await snapshotHost(host);
    expect(after.domains.map((d) => d.name)).toEqual(before.domains.map((d) => d.name));
    expect(after.domains.find((d) => d.name === 'web')).toEqual(before.domains.find((d) => d.name === 'web'));
  });
});
