import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Connection } from '../../src/libvirt/index.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import {
  buildGuestImage,
  guestDomainXml,
  guestImageUnavailableReason,
  waitForConsole,
} from '../support/guest-image.ts';
import { openPrivateDaemon, privateDaemon, privateDaemonSkipReason } from '../support/private-daemon.ts';

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the guest-dependent mutation cases: ${skip}`);

const NAME = 'gw-guest';

describe.skipIf(skip !== undefined)('guest-dependent mutations on a tiny Linux guest', { timeout: 180_000 }, () => {
  let gw: TestGateway;
  let c: Connection;
  let log: string;

  async function ok<D = Record<string, unknown>>(query: string, variables?: Record<string, unknown>): Promise<D> {
    const res = await gw.query<D>(query, variables);
    expect(res.errors).toBeUndefined();
    return res.data as D;
  }

  beforeAll(async () => {
    const daemon = privateDaemon();
    if (!daemon) throw new Error('unreachable');
    const image = await buildGuestImage();
    // The guest boots a kernel from the image cache and logs its console to a file: the operator allows both.
    gw = await startGateway({ qemu: daemon.uri }, undefined, {
      config: {
        storage: { allowedPaths: [dirname(image.kernel), dirname(image.initrd)] },
        xml: { allow: { charSourceTypes: ['file'] } },
      },
    });
    c = await openPrivateDaemon();
    // Under the daemon's root, which its stop() removes.
    log = join(daemon.root, `${NAME}.console.log`);
    const xml = guestDomainXml({ name: NAME, image, memoryMiB: 256, consoleLog: log });
    await ok('mutation ($xml: String!) { defineDomainFromXml(input: { xml: $xml }) { name } }', { xml });
    await ok(`mutation { startDomain(input: { domain: { name: "${NAME}" } }) { state } }`);
    await waitForConsole(log, { count: 1 });
  }, 180_000);
  afterAll(async () => {
    const d = await c?.domainByName(NAME).catch(() => undefined);
    if (d && (await d.isActive())) await d.destroy();
    await d?.undefine();
    await gw?.close();
    await c?.close();
  });

  it('sets the balloon target of the running guest and reports the memory it uses', async () => {
    const target = 160n * 1024n;
    await ok(`mutation { setDomainMemory(input: { domain: { name: "${NAME}" }, memoryKiB: "${target}" }) { name } }`);
    let used = 0n;
    const deadline = Date.now() + 60_000;
    while (Date.now() < deadline) {
      used = BigInt(
        (await ok<{ domain: { memoryKiB: string } }>(`{ domain(ref: { name: "${NAME}" }) { memoryKiB } }`)).domain
          .memoryKiB,
      );
      if (used === target) break;
      await new Promise((r) => setTimeout(r, 250));
    }
    expect(used).toBe(target);
  });

  it('reboots the guest: it comes up again, still running', async () => {
    expect(
      await ok(`mutation { rebootDomain(input: { domain: { name: "${NAME}" } }) { previousState state } }`),
    ).toEqual({
      rebootDomain: { previousState: 'RUNNING', state: 'RUNNING' },
    });
    await waitForConsole(log, { count: 2 });
  });

  it('shuts the guest down gracefully within the timeout, without forcing', async () => {
    expect(
      await ok(
        `mutation { shutdownDomain(input: { domain: { name: "${NAME}" }, timeoutSeconds: 90 }) { previousState state forced domain { stateReason } } }`,
      ),
    ).toEqual({
      shutdownDomain: {
        previousState: 'RUNNING',
        state: 'SHUTOFF',
        forced: false,
        domain: { stateReason: 'SHUTDOWN' },
      },
    });
  });
});
