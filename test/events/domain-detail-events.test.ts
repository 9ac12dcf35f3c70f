import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Client } from 'graphql-ws';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { Connection, Domain } from '../../src/libvirt/index.ts';
import {
  buildGuestImage,
  guestDomainXml,
  guestImageUnavailableReason,
  waitForConsole,
} from '../support/guest-image.ts';
import { privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';
import { fixtureUri } from '../support/test-host.ts';
import {
  type GraphQLResult,
  type ListeningGateway,
  listen,
  listening,
  stopAll,
  subscribeWs,
  untilHub,
  wsClient,
} from './event-clients.ts';

// Every member of the details union, so a test sees exactly what a client can select.
const DETAIL_EVENTS = `subscription ($host: String, $domain: DomainRef, $types: [DomainEventType!]) {
  domainEvents(host: $host, domain: $domain, types: $types) {
    domainName type detail
    details {
      __typename
      ... on DomainDeviceEventDetails { deviceAlias }
      ... on DomainBalloonEventDetails { actualKiB }
      ... on DomainMetadataEventDetails { kind nsUri }
      ... on DomainTrayChangeEventDetails { deviceAlias tray }
      ... on DomainBlockJobEventDetails { disk jobType status }
      ... on DomainMigrationIterationEventDetails { iteration }
      ... on DomainAgentLifecycleEventDetails { state stateReason }
      ... on DomainWatchdogEventDetails { action }
      ... on DomainIoErrorEventDetails { srcPath deviceAlias errorAction reason }
    }
  }
}`;

interface DetailEvent {
  domainName: string | null;
  type: string;
  detail: string | null;
  details: ({ __typename: string } & Record<string, unknown>) | null;
}
type Data = { domainEvents: DetailEvent };

const eventOf = (r: GraphQLResult<Data>): DetailEvent => {
  expect(r.errors).toBeUndefined();
  return r.data?.domainEvents as DetailEvent;
};
const ofType =
  (type: string, also: (e: DetailEvent) => boolean = () => true) =>
  (r: GraphQLResult<Data>) =>
    r.data?.domainEvents.type === type && also(r.data.domainEvents);

describe('domain events besides lifecycle on the test driver', () => {
  let gw: ListeningGateway;
  let lab: Connection;
  let client: Client;

  beforeAll(async () => {
    gw = await listen({ lab: fixtureUri });
    lab = await gw.registry.connection('lab');
    client = wsClient(gw.wsUrl);
  });
  afterEach(async () => {
    stopAll();
    await untilHub(gw.app.events, (s) => s.subscriptions === 0 && s.topicListeners === 0);
  });
  afterAll(async () => {
    await client?.dispose();
    await gw?.close();
  });

  it('delivers METADATA_CHANGE with which metadata changed, and only the types asked for', async () => {
    const d = await lab.defineDomain(`<domain type="test"><name>ev-meta</name><memory unit="KiB">131072</memory>
      <os><type arch="x86_64">hvm</type></os></domain>`);
    try {
      const sub = subscribeWs<Data>(client, DETAIL_EVENTS, {
        host: 'lab',
        domain: { name: 'ev-meta' },
        types: ['METADATA_CHANGE'],
      });
      await listening(gw.app.events, 1);
      await d.setMetadata('DESCRIPTION', 'a described domain');
      expect(eventOf(await sub.results.next())).toEqual({
        domainName: 'ev-meta',
        type: 'METADATA_CHANGE',
        detail: null,
        details: { __typename: 'DomainMetadataEventDetails', kind: 'DESCRIPTION', nsUri: null },
      });
      await d.start(); // lifecycle events are filtered out: the next result is the title's change
      await d.setMetadata('TITLE', 'A title');
      expect(eventOf(await sub.results.next()).details).toEqual({
        __typename: 'DomainMetadataEventDetails',
        kind: 'TITLE',
        nsUri: null,
      });
      expect(sub.results.seen.map((r) => eventOf(r).type)).toEqual(['METADATA_CHANGE', 'METADATA_CHANGE']);
    } finally {
      if (await d.isActive()) await d.destroy();
      await d.undefine();
    }
  });
});

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the domain detail events on the tiny guest: ${skip}`);

const NAME = 'ev-detail';

describe.skipIf(skip !== undefined)(
  'domain events besides lifecycle on a tiny guest (QEMU)',
  { timeout: 120_000 },
  () => {
    let gw: ListeningGateway;
    let qemu: Connection;
    let client: Client;
    let d: Domain;
    let root: string;

    beforeAll(async () => {
      const daemon = privateDaemon();
      if (!daemon) throw new Error('unreachable');
      root = daemon.root;
      const image = await buildGuestImage();
      gw = await listen({ qemu: daemon.uri });
      qemu = await gw.registry.connection('qemu');
      client = wsClient(gw.wsUrl);
      const log = join(daemon.root, `${NAME}.console.log`);
      const iso = join(daemon.root, `${NAME}.iso`);
      await writeFile(iso, Buffer.alloc(64 * 1024));
      // An IDE CD-ROM (machine pc) whose tray the test opens by ejecting its medium.
      const cdrom = `<disk type='file' device='cdrom'><source file='${iso}'/><target dev='hdc' bus='ide'/><readonly/></disk>`;
      const xml = guestDomainXml({ name: NAME, image, memoryMiB: 192, consoleLog: log }).replace(
        '</devices>',
        `${cdrom}</devices>`,
      );
      d = await qemu.defineDomain(xml);
      await d.start();
      await waitForConsole(log, { count: 1 });
    }, 120_000);
    afterEach(async () => {
      stopAll();
      await untilHub(gw.app.events, (s) => s.subscriptions === 0 && s.topicListeners === 0);
    });
    afterAll(async () => {
      if (d && (await d.isActive())) await d.destroy();
      await d?.undefine();
      await client?.dispose();
      await gw?.close();
    });

    const subscribe = async (types: string[]) => {
      const sub = subscribeWs<Data>(client, DETAIL_EVENTS, { host: 'qemu', domain: { name: NAME }, types });
      await listening(gw.app.events, 1);
      return sub;
    };

    it('delivers REBOOT when the guest is reset', async () => {
      const sub = await subscribe(['REBOOT']);
      await d.reset();
      expect(eventOf(await sub.results.next())).toEqual({
        domainName: NAME,
        type: 'REBOOT',
        detail: null,
        details: null,
      });
      await waitForConsole(join(root, `${NAME}.console.log`), { count: 2 });
    });

    it('delivers BALLOON_CHANGE with the balloon’s size as the guest gives memory back', async () => {
      const sub = await subscribe(['BALLOON_CHANGE']);
      const target = 160n * 1024n;
      await d.setMemory(target);
      // The guest moves the balloon in steps: wait for the step that reaches the target.
      const reached = await sub.results.next(ofType('BALLOON_CHANGE', (e) => e.details?.actualKiB === `${target}`));
      expect(eventOf(reached).details).toEqual({ __typename: 'DomainBalloonEventDetails', actualKiB: `${target}` });
    });

    it('delivers DEVICE_ADDED and DEVICE_REMOVED with the alias of a hot-plugged USB disk', async () => {
      const sub = await subscribe(['DEVICE_ADDED', 'DEVICE_REMOVED']);
      const img = join(root, `${NAME}-usb.img`);
      await writeFile(img, Buffer.alloc(1024 * 1024));
      const disk = `<disk type='file' device='disk'><driver name='qemu' type='raw'/><source file='${img}'/>
      <target dev='sdb' bus='usb'/><alias name='ua-evdisk'/></disk>`;
      await d.attachDevice(disk);
      expect(eventOf(await sub.results.next())).toEqual({
        domainName: NAME,
        type: 'DEVICE_ADDED',
        detail: null,
        details: { __typename: 'DomainDeviceEventDetails', deviceAlias: 'ua-evdisk' },
      });
      await d.detachDevice(disk);
      expect(eventOf(await sub.results.next())).toMatchObject({
        type: 'DEVICE_REMOVED',
        details: { __typename: 'DomainDeviceEventDetails', deviceAlias: 'ua-evdisk' },
      });
    });

    it('delivers TRAY_CHANGE when the CD-ROM’s medium is ejected', async () => {
      const sub = await subscribe(['TRAY_CHANGE']);
      await d.updateDevice(`<disk type='file' device='cdrom'><target dev='hdc' bus='ide'/><readonly/></disk>`);
      const opened = eventOf(await sub.results.next(ofType('TRAY_CHANGE', (e) => e.details?.tray === 'OPEN')));
      expect(opened.details).toEqual({
        __typename: 'DomainTrayChangeEventDetails',
        deviceAlias: 'ide0-1-0',
        tray: 'OPEN',
      });
    });

    it('delivers METADATA_CHANGE on a running QEMU guest', async () => {
      const sub = await subscribe(['METADATA_CHANGE']);
      await d.setMetadata('DESCRIPTION', 'described while running');
      expect(eventOf(await sub.results.next()).details).toEqual({
        __typename: 'DomainMetadataEventDetails',
        kind: 'DESCRIPTION',
        nsUri: null,
      });
    });
  },
);
