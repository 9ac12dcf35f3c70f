import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApiToken } from '../../src/auth/authenticator.ts';
import { type GraphQLResponse, startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';
import { domainWith, type UnsafeCase, unsafeDomainCases } from './unsafe-documents.ts';

const SNAPSHOT = `{ host {
  domains { name xml(inactive: true) }
  networks { name xml }
  storagePools { name xml volumes { name } }
  interfaces { name }
} }`;

let outside: string;
let cases: UnsafeCase[];

beforeAll(async () => {
  outside = await mkdtemp(join(tmpdir(), 'virtql-unsafe-'));
  cases = unsafeDomainCases(outside);
});
afterAll(() => rm(outside, { recursive: true, force: true }));

async function snapshot(gw: TestGateway): Promise<unknown> {
  const res = await gw.query(SNAPSHOT);
  expect(res.errors).toBeUndefined();
  return res.data;
}

function expectUnsafe(res: GraphQLResponse, c: Pick<UnsafeCase, 'element' | 'allowedBy' | 'path'>) {
  expect(res.errors, JSON.stringify(res)).toHaveLength(1);
  expect(res.errors?.[0]?.extensions).toMatchObject({
    code: 'UNSAFE_INPUT',
    element: c.element,
    allowedBy: c.allowedBy,
    privilege: 'Sys.Unsafe',
    ...(c.path ? { path: c.path } : {}),
  });
  expect(res.errors?.[0]?.message).toContain(c.allowedBy);
}

const DEFINE = 'mutation ($xml: String!) { defineDomainFromXml(input: { xml: $xml }) { name } }';
const CREATE = 'mutation ($xml: String!) { createDomainFromXml(input: { xml: $xml }) { name } }';
const ATTACH = 'mutation ($xml: String!) { attachDevice(input: { domain: { name: "web" }, xml: $xml }) { name } }';

describe('unsafe domain and device XML on the test driver', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ test: fixtureUri });
  });
  afterAll(() => gw?.close());

  it('refuses every case through defineDomainFromXml, createDomainFromXml and attachDevice; nothing changes', async () => {
    const before = await snapshot(gw);
    for (const c of cases) {
      const xml = domainWith(c, 'unsafe-vm');
      expectUnsafe(await gw.query(DEFINE, { xml }), c);
      expectUnsafe(await gw.query(CREATE, { xml }), c);
      if (c.device) expectUnsafe(await gw.query(ATTACH, { xml: c.device }), c);
    }
    expect(await snapshot(gw)).toEqual(before);
  });

  it('accepts a domain whose disk is in a host pool, on a network the host has, with pty and null char devices', async () => {
    const xml = `<domain type="test"><name>safe-vm</name><memory unit="MiB">64</memory><os><type>hvm</type></os>
      <metadata><x:note xmlns:x="urn:example">kept as metadata</x:note></metadata>
      <devices>
        <disk type="file" device="disk"><source file="/default-pool/web.img"/><target dev="vda" bus="virtio"/></disk>
        <disk type="volume" device="disk"><source pool="default-pool" volume="web.img"/><target dev="vdb" bus="virtio"/></disk>
        <interface type="network"><source network="lan"/></interface>
        <interface type="bridge"><source bridge="virbr-lan"/></interface>
        <serial type="pty"><target port="0"/></serial>
        <console type="pty"><target type="serial" port="0"/></console>
        <channel type="null"><target type="virtio" name="x.1"/></channel>
        <channel type="unix"><target type="virtio" name="org.qemu.guest_agent.0"/></channel>
      </devices></domain>`;
    const res = await gw.query(DEFINE, { xml });
    expect(res.errors).toBeUndefined();
    expect(res.data).toEqual({ defineDomainFromXml: { name: 'safe-vm' } });
  });

  it('answers NOT_FOUND for a volume the host does not have, as for a pool the caller may not see', async () => {
    const device =
      '<disk type="volume" device="disk"><source pool="default-pool" volume="nope.img"/><target dev="vdc" bus="virtio"/></disk>';
    const res = await gw.query(ATTACH, { xml: device });
    expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'NOT_FOUND', field: 'xml' });
    expect(res.errors?.[0]?.message).toContain('nope.img');
  });

  it('a path in a place the schema leaves untyped is still one, with a leading space too', async () => {
    for (const file of ['/etc/shadow', ' /etc/shadow', '//etc//shadow']) {
      const xml = domainWith(
        {
          name: 'fw_cfg',
          element: 'entry',
          allowedBy: 'storage.allowedPaths',
          allow: {},
          domainPart: `<sysinfo type="fwcfg"><entry name="opt/x" file="${file}"/></sysinfo>`,
        },
        'spaced-vm',
      );
      const res = await gw.query(DEFINE, { xml });
      expect(res.errors?.[0]?.extensions, JSON.stringify(file)).toMatchObject({
        code: 'UNSAFE_INPUT',
        element: 'entry',
      });
    }
  });

  it('checks attachDisk and attachNetwork inputs too', async () => {
    const disk = await gw.query(
      'mutation { attachDisk(input: { domain: { name: "web" }, disk: { kind: BLOCK, sourcePath: "/dev/sda", targetDevice: "vdb" } }) { name } }',
    );
    expectUnsafe(disk, { element: 'source', allowedBy: 'storage.allowedPaths', path: '/dev/sda' });
    const nic = await gw.query(
      'mutation { attachNetwork(input: { domain: { name: "web" }, nic: { kind: BRIDGE, source: "docker0" } }) { name } }',
    );
    expectUnsafe(nic, { element: 'source', allowedBy: 'xml.allow.unlistedNetworks' });
  });
});

describe('each case is allowed once the config permits it', () => {
  it('xml.allow / storage.allowedPaths keys', async () => {
    for (const c of cases) {
      const gw = await startGateway({ test: fixtureUri }, undefined, { config: c.allow });
      try {
        const res = await gw.query(DEFINE, { xml: domainWith(c, 'allowed-vm') });
        expect(res.errors, `${c.name}: ${JSON.stringify(res.errors)}`).toBeUndefined();
        expect(res.data).toEqual({ defineDomainFromXml: { name: 'allowed-vm' } });
        if (c.device) {
          // The test driver cannot hot-plug: getting past the policy to libvirt's refusal is the point.
          const attach = await gw.query(ATTACH, { xml: c.device });
          expect(attach.errors?.[0]?.extensions?.code, c.name).toBe('UNSUPPORTED');
        }
      } finally {
        await gw.close();
      }
    }
  });

  it('allowUnsafeXml: true turns the policy off for everyone', async () => {
    const gw = await startGateway({ test: fixtureUri }, undefined, { config: { allowUnsafeXml: true } });
    try {
      for (const c of cases) {
        const res = await gw.query(DEFINE, { xml: domainWith(c, `off-${cases.indexOf(c)}`) });
        expect(res.errors, c.name).toBeUndefined();
      }
    } finally {
      await gw.close();
    }
  });

  it('an identity holding Sys.Unsafe skips the policy; one without it is refused', async () => {
    const admin = createApiToken();
    const operator = createApiToken();
    const gw = await startGateway({ test: fixtureUri }, undefined, {
      config: {
        auth: {
          tokens: [
            { name: 'root', sha256: admin.sha256 },
            { name: 'builder', sha256: operator.sha256 },
          ],
          roles: { builder: ['VM.Allocate', 'VM.Config', 'VM.Audit', 'Storage.Audit', 'Network.Audit'] },
          grants: [
            { identity: 'root', role: 'admin' },
            { identity: 'builder', role: 'builder' },
          ],
        },
      },
    });
    try {
      const hostdev = cases.find((c) => c.name === 'hostdev') as UnsafeCase;
      const qemu = cases.find((c) => c.name === 'qemu:commandline') as UnsafeCase;
      for (const c of [hostdev, qemu]) {
        const refused = await gw.query(
          DEFINE,
          { xml: domainWith(c, `sys-${c.element}`) },
          {
            authorization: `Bearer ${operator.secret}`,
          },
        );
        expectUnsafe(refused, c);
        const allowed = await gw.query(
          DEFINE,
          { xml: domainWith(c, `sys-${c.element.replace(':', '-')}`) },
          { authorization: `Bearer ${admin.secret}` },
        );
        expect(allowed.errors).toBeUndefined();
      }
      // What an operator allowed stays: configureDomain checks only what its edit adds.
      const configured = await gw.query(
        'mutation { configureDomain(input: { domain: { name: "sys-hostdev" }, config: { vcpus: 2, description: "<hostdev/>" } }) { xml } }',
        undefined,
        { authorization: `Bearer ${operator.secret}` },
      );
      expect(configured.errors).toBeUndefined();
      expect(configured.data).toMatchObject({ configureDomain: { xml: expect.stringContaining('<hostdev') } });
    } finally {
      await gw.close();
    }
  });
});
