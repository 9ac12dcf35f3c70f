import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import type { AuditRecord } from '../../src/audit/audit-record.ts';
import { ConsoleCloseCode } from '../../src/console/console-server.ts';
import { type Connection, ConsoleStream, type Domain } from '../../src/libvirt/index.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  buildGuestImage,
  GUEST_READY_MARKER,
  type GuestImage,
  guestDomainXml,
  guestImageUnavailableReason,
} from '../support/guest-image.ts';
import { openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';
import { closed, connect, transcript } from './console-clients.ts';

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the serial console cases: ${skip}`);

const NAME = 'console-serial';
/** The kernel's boot messages on the console too (the image's cmdline keeps them quiet). */
const verbose = (image: GuestImage): GuestImage => ({
  ...image,
  cmdline: image.cmdline.replace('loglevel=4', 'loglevel=6'),
});

describe.skipIf(skip !== undefined)(
  'a serial console through the gateway (tiny guest, TCG)',
  { timeout: 90_000 },
  () => {
    let gw: TestGateway;
    let base: string;
    let c: Connection;
    let dom: Domain;
    const audit: AuditRecord[] = [];

    async function ticketUrl(): Promise<string> {
      const res = await gw.query<{ openConsole: { ticket: string } }>(
        `mutation { openConsole(input: { domain: { name: "${NAME}" }, kind: SERIAL }) { ticket } }`,
      );
      expect(res.errors).toBeUndefined();
      return `${base}/console?ticket=${res.data?.openConsole.ticket}`;
    }

    beforeAll(async () => {
      const daemon = privateDaemon();
      if (!daemon) throw new Error('unreachable');
      const image = await buildGuestImage();
      c = await openPrivateDaemon();
      await (await c.domainByName(NAME).catch(() => undefined))?.destroy().catch(() => undefined);
      // Paused at first, so the WebSocket is there before the first byte of the boot.
      dom = await c.createDomain(guestDomainXml({ name: NAME, image: verbose(image), serial: 'pty' }), {
        paused: true,
      });
      gw = await startGateway({ qemu: daemon.uri });
      base = (await gw.app.start()).replace(/^http/, 'ws').replace('/graphql', '');
      const records = gw.app.audit.subscribe();
      void (async () => {
        for await (const r of records) audit.push(r);
      })();
    }, 180_000);
    afterAll(async () => {
      if (dom && (await dom.isActive().catch(() => false))) await dom.destroy();
      await gw?.close();
      await c?.close();
    });

    it('reads the boot log and the marker, runs a command, refuses a second client, and closes 4410 when the domain stops', async () => {
      const first = await connect(await ticketUrl());
      expect(first.status).toBeUndefined();
      const out = transcript(first.ws);
      await dom.resume();
      await out.until(GUEST_READY_MARKER);
      expect(out.text).toMatch(/Linux version \d/);
      expect(out.text.indexOf('Linux version')).toBeLessThan(out.text.indexOf(GUEST_READY_MARKER));

      // xterm.js sends keystrokes as text frames; the shell echoes them and answers.
      first.ws.send('echo sum=$((40+2))\r');
      await out.until('sum=42');

      const second = await connect(await ticketUrl());
      expect(second.status).toBeUndefined();
      const refused = await closed(second.ws);
      expect(refused.code).toBe(ConsoleCloseCode.Busy);
      expect(refused.reason).toMatch(/^CONSOLE_BUSY: /);

      // The first client leaves: its session is an audit record with what went each way.
      const firstClosed = closed(first.ws);
      first.ws.close();
      await firstClosed;
      await vi.waitFor(() => expect(audit.filter((r) => r.operation === 'console.close')).toHaveLength(2));
      const left = audit.filter((r) => r.operation === 'console.close').find((r) => r.arguments.bytesFromClient);
      expect(left).toMatchObject({ host: 'qemu', arguments: { domain: NAME, kind: 'SERIAL', device: null } });
      expect(left?.arguments.bytesToClient).toBe(Buffer.byteLength(out.text, 'latin1'));
      expect(left?.arguments.bytesFromClient).toBe('echo sum=$((40+2))\r'.length);
      expect(left?.durationMs).toBeGreaterThan(0);

      // Another libvirt client (virsh console, another replica) holds it: libvirt refuses, also 4409.
      const held = await ConsoleStream.open(dom, {
        onData: () => undefined,
        onEnd: () => undefined,
        onError: () => undefined,
      });
      const third = await connect(await ticketUrl());
      const busy = await closed(third.ws);
      expect(busy.code).toBe(ConsoleCloseCode.Busy);
      expect(busy.reason).toMatch(/^CONSOLE_BUSY: .*console/i);
      await held.close();

      // Free again: a new client gets the shell, until the domain stops.
      const fourth = await connect(await ticketUrl());
      const again = transcript(fourth.ws);
      const fourthClosed = closed(fourth.ws);
      fourth.ws.send('echo again=$((6*7))\r');
      await again.until('again=42');
      await dom.destroy();
      expect(await fourthClosed).toEqual({ code: ConsoleCloseCode.Ended, reason: 'CONSOLE_ENDED: the domain stopped' });
      expect(gw.app.consoles.openSockets()).toBe(0);
    });

    it('openConsole on a stopped domain is INVALID_STATE', async () => {
      const res = await gw.query(
        `mutation { openConsole(input: { domain: { name: "${NAME}" }, kind: SERIAL }) { ticket } }`,
      );
      // The transient domain is gone once destroyed.
      expect(res.errors?.[0]?.extensions?.code).toMatch(/NOT_FOUND|INVALID_STATE/);
    });
  },
);
