import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  type Connection,
  ConsoleStream,
  type Domain,
  LibvirtError,
  openGraphicsSocket,
  takeScreenshot,
} from '../../src/libvirt/index.ts';
import { consoleCollector } from '../support/console-collector.ts';
import {
  buildGuestImage,
  GUEST_READY_MARKER,
  type GuestImage,
  guestDomainXml,
  guestImageUnavailableReason,
} from '../support/guest-image.ts';
import { openPrivateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';
import { deferred } from '../support/test-host.ts';

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the console port cases: ${skip}`);

const NAME = 'console-port';
const CAP = 64 * 1024;
/** Bytes the guest writes in the flow-control case: enough to fill CAP while Node is busy. */
const FLOOD = 200_000;

/** The kernel's boot messages on the console too (the image's cmdline keeps them quiet). */
const verbose = (image: GuestImage): GuestImage => ({
  ...image,
  cmdline: image.cmdline.replace('loglevel=4', 'loglevel=6'),
});

describe.skipIf(skip !== undefined)(
  'consoles on the libvirt port (private libvirtd, tiny guest)',
  { timeout: 120_000 },
  () => {
    let c: Connection;
    let dom: Domain;

    beforeAll(async () => {
      const image = await buildGuestImage();
      c = await openPrivateDaemon();
      await (await c.domainByName(NAME).catch(() => undefined))?.destroy().catch(() => undefined);
      dom = await c.createDomain(
        guestDomainXml({ name: NAME, image: verbose(image), serial: 'pty', vnc: true, memoryMiB: 192 }),
        {
          paused: true,
        },
      );
    }, 180_000);
    afterAll(async () => {
      if (dom && (await dom.isActive().catch(() => false))) await dom.destroy();
      await c?.close();
    });

    let out: ReturnType<typeof consoleCollector>;
    let stream: ConsoleStream;

    it('reads the boot log and the marker, runs a command, refuses a second client; screenshot and VNC', async () => {
      out = consoleCollector();
      stream = await ConsoleStream.open(dom, out.listener, { inflightCap: CAP });
      await dom.resume();
      await out.until(GUEST_READY_MARKER);
      expect(out.text).toContain('Linux version');
      await stream.write(Buffer.from('echo sum=$((40+2))\n'));
      await out.until('sum=42');

      // libvirt refuses a second client (the gateway maps this to 4409 CONSOLE_BUSY, also across replicas).
      const second = ConsoleStream.open(dom, consoleCollector().listener);
      await expect(second).rejects.toBeInstanceOf(LibvirtError);
      await expect(second).rejects.toMatchObject({ codeName: 'OPERATION_FAILED' });

      const shot = await takeScreenshot(dom);
      // QEMU 7.2 writes PNG when asked through libvirt 9.0; older ones PPM.
      expect(['image/png', 'image/x-portable-pixmap']).toContain(shot.mime);
      expect(shot.data.length).toBeGreaterThan(100);

      const vnc = await openGraphicsSocket(dom);
      const version = deferred<string>();
      vnc.once('data', (d: Buffer) => version.resolve(d.toString('latin1')));
      expect(await version.promise).toBe('RFB 003.008\n');
      vnc.destroy();
    });

    it('stops reading libvirt while Node has not taken `inflightCap` bytes, and while paused', async () => {
      await stream.write(Buffer.from(`yes ${'x'.repeat(70)} | head -c ${FLOOD}; echo FLOOD-$((1+1))-DONE\n`));
      // Two lines of it: the output, not the echo of the command.
      await out.until(`${'x'.repeat(70)}\r\n${'x'.repeat(70)}`);
      // Node's thread busy: the binding reads on only until CAP bytes wait for it.
      // streamInfo reads the binding's state synchronously, so the loop can watch it without yielding.
      const busyUntil = Date.now() + 20_000;
      while (!stream.info()?.autoPaused && Date.now() < busyUntil) {
        // nothing: the event thread fills the queue meanwhile
      }
      const info = stream.info();
      expect(info?.autoPaused).toBe(true);
      expect(info?.inflight).toBeGreaterThanOrEqual(CAP);
      expect(info?.inflight).toBeLessThanOrEqual(CAP + 64 * 1024);

      await stream.pause();
      for (let i = 0; i < 5; i++) await dom.info();
      const atPause = out.text.length;
      for (let i = 0; i < 20; i++) await dom.info();
      expect(out.text.length).toBe(atPause);
      expect(stream.info()?.paused).toBe(true);

      await stream.resume();
      // Not the echo of the command line: the shell's answer.
      await out.until('FLOOD-2-DONE');
      expect(stream.info()).toMatchObject({ paused: false, autoPaused: false });
    });

    it('ends the stream when the domain stops', async () => {
      await dom.destroy();
      expect(await out.ended).toBe('end');
      await stream.close();
    });
  },
);
