import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest';
import { Connection } from '../../src/libvirt/index.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import type { LibvirtdContext } from '../support/global-setup.ts';
import { type PrivateLibvirtd, startLibvirtd } from '../support/libvirtd.ts';
import { bareDomainXml } from '../support/private-daemon.ts';
import { virsh } from '../support/run-command.ts';

/**
 * The gateway keeps the definitions it parsed between requests (issue 21): nothing stale may ever
 * come of it. Each case changes the domain behind the gateway's back (virsh; another connection;
 * a daemon restart the gateway reconnects through) and the very next query must show the change.
 * A daemon of this file's own: the restart would pull the shared one from under other files.
 */
function skipReason(): string | undefined {
  const ctx = inject('libvirtd') as LibvirtdContext | undefined;
  if (ctx === undefined) return 'no private libvirtd in this run (the vitest global setup did not run)';
  return 'unavailable' in ctx ? `no private libvirtd on this machine: ${ctx.unavailable}` : undefined;
}

const skip = skipReason();
if (skip) console.warn(`skipping the definition freshness cases: ${skip}`);

const NAME = 'fresh';

interface Seen {
  description: string | null;
  maxVcpus: number | null;
  disks: Array<{ targetDevice: string }>;
}

describe.skipIf(skip !== undefined)('definitions after changes behind the gateway’s back (private libvirtd)', () => {
  let daemon: PrivateLibvirtd;
  let gw: TestGateway;

  /** What the gateway says of the domain, through the list (prefetched) and through a lookup: both must agree. */
  async function seen(): Promise<Seen> {
    const data = await gw.ok<{
      host: { domains: Array<Seen & { name: string }>; domain: Seen };
    }>(`{ host {
      domains { name description maxVcpus disks { targetDevice } }
      domain(ref: { name: "${NAME}" }) { description maxVcpus disks { targetDevice } } } }`);
    const listed = data.host.domains.find((d) => d.name === NAME);
    expect(listed).toBeDefined();
    const { name: _name, ...fromList } = listed as Seen & { name: string };
    expect(fromList).toEqual(data.host.domain);
    return data.host.domain;
  }

  beforeAll(async () => {
    daemon = await startLibvirtd({ name: 'defs' });
    const file = join(daemon.root, `${NAME}.xml`);
    await writeFile(file, bareDomainXml(NAME, daemon.kvm));
    await virsh(daemon.uri, 'define', file);
    gw = await startGateway({ qemu: daemon.uri });
  });

  afterAll(async () => {
    await gw?.close();
    await daemon?.stop();
  });

  it('shows a description and a vCPU maximum set with virsh on the next query', async () => {
    expect(await seen()).toEqual({ description: null, maxVcpus: 2, disks: [] });
    // Twice unchanged: the second read is served from what the first parsed.
    expect(await seen()).toEqual({ description: null, maxVcpus: 2, disks: [] });
    await virsh(daemon.uri, 'desc', NAME, '--config', '--new-desc', 'set by virsh');
    expect((await seen()).description).toBe('set by virsh');
    await virsh(daemon.uri, 'setvcpus', NAME, '3', '--config', '--maximum');
    expect((await seen()).maxVcpus).toBe(3);
  });

  it('shows a disk another connection defined into the domain', async () => {
    const other = await Connection.open(daemon.uri);
    try {
      const domain = await other.domainByName(NAME);
      const xml = (await domain.xml({ inactive: true })).replace(
        '<devices>',
        "<devices><disk type='file' device='cdrom'><target dev='sdb' bus='sata'/><readonly/></disk>",
      );
      await other.defineDomain(xml);
    } finally {
      await other.close();
    }
    expect((await seen()).disks).toEqual([{ targetDevice: 'sdb' }]);
  });

  it('shows a change made while the gateway was cut off by a daemon restart', async () => {
    expect((await seen()).description).toBe('set by virsh');
    await daemon.restart();
    await virsh(daemon.uri, 'desc', NAME, '--config', '--new-desc', 'changed across a restart');
    expect((await seen()).description).toBe('changed across a restart');
  });
});
