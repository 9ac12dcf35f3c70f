import { readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/libvirt/index.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  buildGuestImage,
  countMarker,
  GUEST_READY_MARKER,
  guestDomainXml,
  guestImageUnavailableReason,
  waitForConsole,
} from '../support/guest-image.ts';
import { openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the save/restore guest cases: ${skip}`);

const NAME = 'save-guest';
/** Linux key codes: Alt+SysRq+7 makes the guest kernel print "sysrq: Loglevel set to 7" with its uptime stamp. */
const SYSRQ_LOGLEVEL = '[56, 99, 8]';
const SYSRQ_LINE = /\[\s*(\d+\.\d+)\]\s+sysrq: Loglevel set to 7/g;

describe.skipIf(skip !== undefined)(
  'save/restore and managed save keep the guest running where it was (tiny guest, private libvirtd)',
  { timeout: 240_000 },
  () => {
    let gw: TestGateway;
    let c: Connection;
    let log: string;
    let root: string;

    async function ok<D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<D> {
      const res = await gw.query<D>(query, variables);
      expect(res.errors).toBeUndefined();
      return res.data as D;
    }

    const text = () => readFile(log, 'utf8').catch(() => '');

    /**
     * The guest's uptime in seconds, read from its kernel: the stamp of the line Alt+SysRq+7 makes it print.
     */
    async function uptime(): Promise<number> {
      const seen = [...(await text()).matchAll(SYSRQ_LINE)].length;
      await ok(`mutation { sendKey(input: { domain: { name: "${NAME}" }, keycodes: ${SYSRQ_LOGLEVEL} }) { name } }`);
      const after = await waitForConsole(log, { marker: 'sysrq: Loglevel set to 7', count: seen + 1 });
      const stamps = [...after.matchAll(SYSRQ_LINE)].map((m) => Number(m[1]));
      return stamps[stamps.length - 1] as number;
    }

    beforeAll(async () => {
      const daemon = privateDaemon();
      if (!daemon) throw new Error('unreachable');
      root = daemon.root;
      const image = await buildGuestImage();
      gw = await startGateway({ qemu: daemon.uri }, undefined, {
        config: {
          storage: { allowedPaths: [dirname(image.kernel), dirname(image.initrd), root] },
          xml: { allow: { charSourceTypes: ['file'] } },
        },
      });
      c = await openPrivateDaemon();
      log = join(root, `${NAME}.console.log`);
      const xml = guestDomainXml({ name: NAME, image, memoryMiB: 128, consoleLog: log });
      await ok('mutation ($xml: String!) { defineDomainFromXml(input: { xml: $xml }) { name } }', { xml });
      await ok(`mutation { startDomain(input: { domain: { name: "${NAME}" } }) { state } }`);
      await waitForConsole(log, { count: 1, timeoutMs: 120_000 });
    }, 180_000);
    afterAll(async () => {
      const d = await c?.domainByName(NAME).catch(() => undefined);
      if (d && (await d.isActive())) await d.destroy();
      await d?.undefine(['MANAGED_SAVE']);
      await gw?.close();
      await c?.close();
    });

    it('saveDomain and restoreDomain: the guest comes back with its uptime carried on, not rebooted', async () => {
      const before = await uptime();
      const path = join(root, `${NAME}.save`);
      const saved = await ok<{ saveDomain: { state: string } }>(
        `mutation ($path: String!) { saveDomain(input: { domain: { name: "${NAME}" }, path: $path }) { state } }`,
        { path },
      );
      expect(saved.saveDomain.state).toBe('SHUTOFF');
      const restored = await ok<{
        restoreDomain: { previousState: string; state: string; domain: { stateReason: string } };
      }>(
        `mutation ($path: String!) { restoreDomain(input: { path: $path }) { previousState state domain { stateReason } } }`,
        {
          path,
        },
      );
      expect(restored.restoreDomain).toEqual({
        previousState: 'SHUTOFF',
        state: 'RUNNING',
        domain: { stateReason: 'RESTORED' },
      });
      const after = await uptime();
      expect(after).toBeGreaterThanOrEqual(before);
      expect(countMarker(await text(), GUEST_READY_MARKER)).toBe(0);
    });

    it('managedSaveDomain then startDomain resumes the guest; forceBoot boots it afresh', async () => {
      const before = await uptime();
      const saved = await ok<{ managedSaveDomain: { state: string; domain: { hasManagedSave: boolean } } }>(
        `mutation { managedSaveDomain(input: { domain: { name: "${NAME}" } }) { state domain { hasManagedSave } } }`,
      );
      expect(saved.managedSaveDomain).toEqual({ state: 'SHUTOFF', domain: { hasManagedSave: true } });
      const started = await ok<{ startDomain: { domain: { stateReason: string; hasManagedSave: boolean } } }>(
        `mutation { startDomain(input: { domain: { name: "${NAME}" } }) { domain { stateReason hasManagedSave } } }`,
      );
      expect(started.startDomain.domain).toEqual({ stateReason: 'RESTORED', hasManagedSave: false });
      expect(await uptime()).toBeGreaterThanOrEqual(before);
      expect(countMarker(await text(), GUEST_READY_MARKER)).toBe(0);

      await ok(`mutation { managedSaveDomain(input: { domain: { name: "${NAME}" } }) { state } }`);
      const fresh = await ok<{ startDomain: { domain: { stateReason: string; hasManagedSave: boolean } } }>(
        `mutation { startDomain(input: { domain: { name: "${NAME}" }, forceBoot: true }) { domain { stateReason hasManagedSave } } }`,
      );
      expect(fresh.startDomain.domain).toEqual({ stateReason: 'BOOTED', hasManagedSave: false });
      // A fresh boot prints the ready marker again (the resumed guest never did).
      await waitForConsole(log, { count: 1, timeoutMs: 120_000 });
    });
  },
);
