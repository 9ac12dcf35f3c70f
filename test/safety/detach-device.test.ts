import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type GraphQLResponse, startGateway, type TestGateway } from '../support/gateway.ts';
import { fixtureUri } from '../support/test-host.ts';
import { VAGUE_FRAGMENTS } from './unsafe-documents.ts';

const DETACH =
  'mutation ($name: String!, $xml: String!) { detachDevice(input: { domain: { name: $name }, xml: $xml }) { name } }';

const TWIN_FRAGMENT = "<interface type='network'><source network='lan'/></interface>";

const TWIN = `<domain type="test"><name>twin</name><memory unit="MiB">64</memory><os><type>hvm</type></os><devices>
  <interface type="network"><mac address="52:54:00:aa:00:01"/><source network="lan"/></interface>
  <interface type="network"><mac address="52:54:00:aa:00:02"/><source network="lan"/></interface>
</devices></domain>`;

function extensionsOf(res: GraphQLResponse): Record<string, unknown> | undefined {
  return res.errors?.[0]?.extensions;
}

describe('detachDevice resolves the client’s fragment to one device of the domain first', () => {
  let gw: TestGateway;
  beforeAll(async () => {
    gw = await startGateway({ test: fixtureUri });
    const res = await gw.query('mutation ($xml: String!) { defineDomainFromXml(input: { xml: $xml }) { name } }', {
      xml: TWIN,
    });
    expect(res.errors).toBeUndefined();
  });
  afterAll(() => gw?.close());

  it('refuses fragments that identify nothing with INVALID_INPUT', async () => {
    for (const xml of VAGUE_FRAGMENTS) {
      const res = await gw.query(DETACH, { name: 'web', xml });
      expect(extensionsOf(res), xml).toMatchObject({ code: 'INVALID_INPUT', field: 'xml' });
    }
  });

  it('refuses a fragment matching two devices with INVALID_INPUT, and one matching none with NOT_FOUND', async () => {
    const twice = await gw.query(DETACH, { name: 'twin', xml: TWIN_FRAGMENT });
    expect(extensionsOf(twice)).toMatchObject({ code: 'INVALID_INPUT', field: 'xml' });
    expect(twice.errors?.[0]?.message).toContain('matches 2 devices');
    const none = await gw.query(DETACH, { name: 'web', xml: "<disk><target dev='vdq'/></disk>" });
    expect(extensionsOf(none)).toMatchObject({ code: 'NOT_FOUND', field: 'xml' });
    const otherMac = await gw.query(DETACH, {
      name: 'twin',
      xml: "<interface><mac address='52:54:00:aa:00:09'/></interface>",
    });
    expect(extensionsOf(otherMac)?.code).toBe('NOT_FOUND');
  });

  it('passes a fragment naming one device by target dev, MAC or source on to libvirt', async () => {
    // The test driver refuses hot-unplug itself: its UNSUPPORTED shows the gateway called libvirt.
    for (const [name, xml] of [
      ['web', "<disk><target dev='vda'/></disk>"],
      ['web', "<disk type='file'><source file='/default-pool/web.img'/></disk>"],
      ['twin', "<interface><mac address='52:54:00:AA:00:02'/></interface>"],
      ['web', "<interface type='network'><source network='lan'/></interface>"],
    ] as const) {
      const res = await gw.query(DETACH, { name, xml });
      expect(extensionsOf(res)?.code, xml).toBe('UNSUPPORTED');
    }
  });
});
