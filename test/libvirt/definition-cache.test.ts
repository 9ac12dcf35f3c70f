import { afterEach, describe, expect, it } from 'vitest';
import { Connection, type Domain, domainDefinitions, LibvirtError } from '../../src/libvirt/index.ts';
import type { DomainXml } from '../../src/libvirt/xml/domain-xml.ts';
import { fixtureUri } from '../support/test-host.ts';

/**
 * The per-connection definition cache (src/native/definition-cache.h, src/libvirt/definition-models.ts):
 * libvirt is asked for every document; only a changed one is parsed again. libvirt is the oracle:
 * what each read returns must equal a fresh parse of what libvirt says now.
 */
const open: Connection[] = [];
afterEach(async () => {
  for (const c of open.splice(0)) await c.close();
});

async function connect(): Promise<Connection> {
  // A file-backed test host is private to its connection (test:///default is shared by the process).
  const c = await Connection.open(fixtureUri);
  open.push(c);
  return c;
}

async function definition(d: Domain): Promise<DomainXml> {
  const [model] = await domainDefinitions([d]);
  if (model === undefined || model instanceof Error) throw model ?? new Error('no slot');
  return model;
}

describe('definitions read through the connection’s cache', () => {
  it('answers the same parse while libvirt’s document is unchanged, and a new one as soon as it changes', async () => {
    const c = await connect();
    const d = await c.domainByName('web');
    const first = await definition(d);
    expect(first.name).toBe('web');
    // Unchanged: the very same (frozen) model, not a second parse.
    expect(await definition(d)).toBe(first);
    expect(Object.isFrozen(first) && Object.isFrozen(first.disks) && Object.isFrozen(first.os)).toBe(true);

    await d.setMetadata('DESCRIPTION', 'changed behind the reader');
    const second = await definition(d);
    expect(second).not.toBe(first);
    expect(second.description).toBe('changed behind the reader');
    // The old model is untouched: a request still holding it sees what it read.
    expect(first.description).toBe('front end');
    expect(await definition(d)).toBe(second);
  });

  it('keeps the live and the persistent definition apart', async () => {
    const c = await connect();
    const d = await c.domainByName('web');
    await d.setMetadata('DESCRIPTION', 'only the next boot', 'config');
    const [live] = await domainDefinitions([d]);
    const [persistent] = await domainDefinitions([d], { inactive: true });
    expect((live as DomainXml).description).toBe('front end');
    expect((persistent as DomainXml).description).toBe('only the next boot');
  });

  it('starts afresh on a new connection (a reconnect): nothing parsed on the old one is served', async () => {
    const a = await connect();
    const fromA = await definition(await a.domainByName('web'));
    const b = await connect();
    const fromB = await definition(await b.domainByName('web'));
    expect(fromB).not.toBe(fromA);
    expect(fromB).toEqual(fromA);
  });

  it('follows a domain redefined and undefined, slot by slot', async () => {
    const c = await connect();
    const d = await c.domainByName('web');
    const before = await definition(d);
    const xml = (await d.xml({ inactive: true })).replace(
      /<memory unit='KiB'>\d+<\/memory>/,
      "<memory unit='KiB'>262144</memory>",
    );
    await d.destroy();
    const redefined = await c.defineDomain(xml);
    expect((await definition(redefined)).memoryKiB).toBe(262144n);
    expect(before.memoryKiB).not.toBe(262144n);
    const other = await c.defineDomain(
      xml.replace(/<name>web<\/name>/, '<name>second</name>').replace(/<uuid>[^<]*<\/uuid>/, ''),
    );
    await redefined.undefine();
    const [gone, kept] = await domainDefinitions([redefined, other]);
    expect(gone).toBeInstanceOf(LibvirtError);
    expect((gone as LibvirtError).codeName).toBe('NO_DOMAIN');
    expect((kept as DomainXml).name).toBe('second');
  });

  it('refuses handles of two connections in one batch', async () => {
    const a = await connect();
    const b = await connect();
    await expect(domainDefinitions([await a.domainByName('web'), await b.domainByName('web')])).rejects.toThrow(
      /one connection/,
    );
  });
});
