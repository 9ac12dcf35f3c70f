import type { Connection } from '../../src/libvirt/index.ts';

/** Everything a client could change on a host, as text to compare before and after. */
export interface HostSnapshot {
  domains: Array<{ name: string; uuid: string; state: string; persistent: boolean; xml: string; inactiveXml?: string }>;
  networks: Array<{ name: string; active: boolean; xml: string }>;
  pools: Array<{ name: string; active: boolean; xml: string; volumes: Array<{ name: string; xml: string }> }>;
  interfaces: Array<{ name: string; xml: string }>;
}

const byName = <T extends { name: string }>(a: T, b: T) => a.name.localeCompare(b.name);

/** Domains (state, live and persistent XML), networks, pools with their volumes, and host interfaces. */
export async function snapshotHost(c: Connection): Promise<HostSnapshot> {
  const domains = await Promise.all(
    (await c.domains()).map(async (d) => {
      const persistent = await d.isPersistent();
      return {
        name: d.name,
        uuid: d.uuid,
        state: (await d.state()).state,
        persistent,
        xml: await d.xml(),
        ...(persistent ? { inactiveXml: await d.xml({ inactive: true }) } : {}),
      };
    }),
  );
  const networks = await Promise.all(
    (await c.networks()).map(async (n) => ({ name: n.name, active: await n.isActive(), xml: await n.xml() })),
  );
  const pools = await Promise.all(
    (await c.storagePools()).map(async (p) => {
      const active = await p.isActive();
      const volumes = active
        ? await Promise.all((await p.volumes()).map(async (v) => ({ name: v.name, xml: await v.xml() })))
        : [];
      return { name: p.name, active, xml: await p.xml(), volumes: volumes.sort(byName) };
    }),
  );
  const interfaces = await Promise.all((await c.interfaces()).map(async (i) => ({ name: i.name, xml: await i.xml() })));
  return {
    domains: domains.sort(byName),
    networks: networks.sort(byName),
    pools: pools.sort(byName),
    interfaces: interfaces.sort(byName),
  };
}
