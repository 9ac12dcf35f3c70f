import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Connection, type Domain, ErrorNumber, LibvirtError } from '../../src/libvirt/index.ts';
import { openFixtureHost } from '../support/test-host.ts';

const WEB_UUID = '4dea22b3-1d52-d8f3-2516-782e98ab3fa0';

function domainXml(name: string, memoryKiB = 262144): string {
  return `<domain type="test">
  <name>${name}</name>
  <memory unit="KiB">${memoryKiB}</memory>
  <vcpu current="1">4</vcpu>
  <os><type arch="x86_64">hvm</type></os>
</domain>`;
}

let c: Connection;
beforeEach(async () => {
  c = await openFixtureHost();
});
afterEach(async () => {
  await c.close();
});

describe('Domain lists and lookups', () => {
  it('lists all, active and inactive domains', async () => {
    expect((await c.domains()).map((d) => d.name).sort()).toEqual(['db', 'web']);
    expect((await c.domains('active')).map((d) => d.name)).toEqual(['web']);
    expect((await c.domains('inactive')).map((d) => d.name)).toEqual(['db']);
  });

  it('finds a domain by name, UUID and id, with the same identity', async () => {
    const byName = await c.domainByName('web');
    const byUuid = await c.domainByUuid(WEB_UUID);
    const byId = await c.domainById(byName.id);
    expect(byName.uuid).toBe(WEB_UUID);
    expect(byId.name).toBe('web');
    expect(byUuid.name).toBe('web');
    expect(byName.id).toBeGreaterThan(0);
    expect((await c.domainByName('db')).id).toBe(-1);
  });

  it('reads info, state with reason, OS type and flags', async () => {
    const web = await c.domainByName('web');
    const info = await web.info();
    expect(info).toMatchObject({ state: 'RUNNING', maxMemoryKiB: 1048576n, memoryKiB: 524288n, vcpus: 2 });
    expect(info.cpuTimeNs).toBeTypeOf('bigint');
    expect(await web.state()).toEqual({ state: 'RUNNING', reason: 'UNKNOWN' });
    expect(await web.osType()).toBe('linux');
    expect(await web.isActive()).toBe(true);
    expect(await web.isPersistent()).toBe(true);
    expect(await web.autostart()).toBe(false);
    expect(await (await c.domainByName('db')).state()).toMatchObject({ state: 'SHUTOFF' });
  });

  it('returns the live and the inactive XML', async () => {
    const web = await c.domainByName('web');
    const live = await web.xml();
    expect(live).toContain('<name>web</name>');
    expect(live).toContain('<description>front end</description>');
    expect(live).toContain("id='1'");
    expect(await web.xml({ inactive: true })).not.toContain("id='1'");
  });

  it('reads bulk stats for every domain in one call', async () => {
    const stats = await c.allDomainStats(['STATE']);
    const byName = new Map(stats.map((s) => [s.domain.name, s.params]));
    expect(byName.get('web')?.['state.state']).toBe(1);
    expect(byName.get('db')?.['state.state']).toBe(5);
    await expect(c.allDomainStats(['STATE', 'BALLOON'])).rejects.toMatchObject({ codeName: 'ARGUMENT_UNSUPPORTED' });
    expect((await c.allDomainStats(['STATE'], 'active')).map((s) => s.domain.name)).toEqual(['web']);
  });
});

describe('Domain lifecycle', () => {
  it('defines, starts, suspends, resumes, reboots, shuts down, destroys and undefines', async () => {
    const d = await c.defineDomain(domainXml('lifecycle'));
    expect(await d.isPersistent()).toBe(true);
    expect((await d.state()).state).toBe('SHUTOFF');
    await d.start();
    expect(await d.state()).toEqual({ state: 'RUNNING', reason: 'BOOTED' });
    expect(await d.currentId()).toBeGreaterThan(0);
    await d.suspend();
    expect(await d.state()).toEqual({ state: 'PAUSED', reason: 'USER' });
    await d.resume();
    expect(await d.state()).toEqual({ state: 'RUNNING', reason: 'UNPAUSED' });
    await d.reboot();
    await d.shutdown();
    expect(await d.state()).toEqual({ state: 'SHUTOFF', reason: 'SHUTDOWN' });
    await d.start();
    await d.destroy();
    expect(await d.state()).toEqual({ state: 'SHUTOFF', reason: 'DESTROYED' });
    expect(await d.currentId()).toBe(-1);
    await d.undefine();
    await expect(c.domainByName('lifecycle')).rejects.toMatchObject({ code: ErrorNumber.NO_DOMAIN });
  });

  it('creates a transient domain that vanishes when destroyed', async () => {
    const d = await c.createDomain(domainXml('transient'));
    expect(await d.isPersistent()).toBe(false);
    expect(await d.isActive()).toBe(true);
    await d.destroy();
    await expect(c.domainByUuid(d.uuid)).rejects.toMatchObject({ codeName: 'NO_DOMAIN' });
  });

  it('sets autostart on a persistent domain', async () => {
    const db = await c.domainByName('db');
    await db.setAutostart(true);
    expect(await db.autostart()).toBe(true);
    await db.setAutostart(false);
    expect(await db.autostart()).toBe(false);
  });
});

describe('Domain resources', () => {
  let d: Domain;
  beforeEach(async () => {
    d = await c.defineDomain(domainXml('resources', 524288));
  });

  it('changes memory and maximum memory in the persistent config of a stopped domain', async () => {
    await d.setMaxMemory(1048576n, 'config');
    await d.setMemory(786432n, 'config');
    const info = await d.info();
    expect(info.maxMemoryKiB).toBe(1048576n);
    expect(info.memoryKiB).toBe(786432n);
  });

  it('changes the balloon target of a running domain', async () => {
    await d.start();
    await d.setMemory(262144n, 'live');
    expect((await d.info()).memoryKiB).toBe(262144n);
  });

  it('changes the vCPU count within the maximum, live and in the config', async () => {
    expect(await d.vcpus('config', { maximum: true })).toBe(4);
    await d.setVcpus(2, 'config');
    expect(await d.vcpus('config')).toBe(2);
    await d.start();
    await d.setVcpus(3, 'live');
    expect(await d.vcpus('live')).toBe(3);
    expect((await d.info()).vcpus).toBe(3);
  });

  it('refuses more vCPUs than the maximum', async () => {
    await expect(d.setVcpus(9, 'config')).rejects.toBeInstanceOf(LibvirtError);
    expect(await d.vcpus('config')).toBe(1);
  });
});

describe('What the test driver refuses', () => {
  it('answers device hot-plug, job control and migration with typed errors', async () => {
    const web = await c.domainByName('web');
    const disk = '<disk type="file" device="disk"><source file="/x.img"/><target dev="vdb" bus="virtio"/></disk>';
    await expect(web.attachDevice(disk, 'live')).rejects.toMatchObject({ codeName: 'NO_SUPPORT' });
    await expect(web.detachDevice(disk, 'live')).rejects.toMatchObject({ codeName: 'NO_SUPPORT' });
    await expect(web.updateDevice(disk, 'live')).rejects.toMatchObject({ codeName: 'NO_SUPPORT' });
    await expect(web.migrateToUri('test:///default', { flags: ['LIVE', 'PEER2PEER'] })).rejects.toBeInstanceOf(
      LibvirtError,
    );
    const other = await openFixtureHost();
    await expect(web.migrate(other, { flags: ['LIVE'] })).rejects.toBeInstanceOf(LibvirtError);
    await other.close();
  });

  it('has no job control', async () => {
    const web = await c.domainByName('web');
    await expect(web.jobStats()).rejects.toMatchObject({ codeName: 'NO_SUPPORT' });
    await expect(web.abortJob()).rejects.toMatchObject({ codeName: 'NO_SUPPORT' });
  });
});
