import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { type Connection, ErrorNumber, LibvirtError } from '../../src/libvirt/index.ts';
import { native } from '../../src/libvirt/native.ts';
import { openFixtureHost } from '../support/test-host.ts';

let c: Connection;
beforeEach(async () => {
  c = await openFixtureHost();
});
afterEach(async () => {
  await c.close();
});

async function failure(p: Promise<unknown>): Promise<LibvirtError> {
  const e = await p.then(
    () => undefined,
    (err: unknown) => err,
  );
  expect(e).toBeInstanceOf(LibvirtError);
  return e as LibvirtError;
}

describe('Bad input is a LibvirtError with libvirt’s code, and changes nothing', () => {
  it.each([
    ['domain', () => c.defineDomain('<domain type="test"><name>broken</name')],
    ['network', () => c.defineNetwork('<network><name>broken</name')],
    ['pool', () => c.defineStoragePool('<pool type="dir"><name>broken')],
    ['interface', () => c.defineInterface('<interface')],
  ])('malformed %s XML → XML_DETAIL with the parser’s message', async (_kind, define) => {
    const e = await failure(define());
    expect(e.code).toBe(ErrorNumber.XML_DETAIL);
    expect(e.message).toMatch(/_definition\):1: /);
    expect(e.levelName).toBe('ERROR');
  });

  it('leaves no half-defined domain behind a rejected definition', async () => {
    const before = (await c.domains()).map((d) => d.name);
    await failure(c.defineDomain('<domain type="test"><name>no-os</name><memory>1024</memory></domain>'));
    expect((await c.domains()).map((d) => d.name)).toEqual(before);
  });

  it.each([
    ['domain by name', () => c.domainByName('ghost'), 'NO_DOMAIN'],
    ['domain by UUID', () => c.domainByUuid('00000000-0000-0000-0000-000000000001'), 'NO_DOMAIN'],
    ['domain by id', () => c.domainById(4242), 'NO_DOMAIN'],
    ['network', () => c.networkByName('ghost'), 'NO_NETWORK'],
    ['network by UUID', () => c.networkByUuid('00000000-0000-0000-0000-000000000001'), 'NO_NETWORK'],
    ['pool', () => c.storagePoolByName('ghost'), 'NO_STORAGE_POOL'],
    ['volume by path', () => c.volumeByPath('/nowhere/ghost.img'), 'NO_STORAGE_VOL'],
    ['volume by key', () => c.volumeByKey('ghost-key'), 'NO_STORAGE_VOL'],
    ['interface', () => c.interfaceByName('ghost0'), 'NO_INTERFACE'],
    ['interface by MAC', () => c.interfaceByMac('00:11:22:33:44:55'), 'NO_INTERFACE'],
  ])('unknown %s → %s', async (_what, lookup, codeName) => {
    expect((await failure(lookup())).codeName).toBe(codeName);
  });

  it('a malformed UUID → INVALID_ARG', async () => {
    expect((await failure(c.domainByUuid('not-a-uuid'))).codeName).toBe('INVALID_ARG');
  });

  // The test driver answers most wrong-state calls with INTERNAL_ERROR; the QEMU driver with
  // OPERATION_INVALID (see qemu.test.ts). Either way libvirt's own code and message come through.
  it('actions in the wrong state are refused with libvirt’s code and message, and the state is unchanged', async () => {
    const db = await c.domainByName('db');
    const web = await c.domainByName('web');
    expect(await failure(db.suspend())).toMatchObject({ codeName: 'INTERNAL_ERROR', message: /'db' not running/ });
    expect(await failure(db.destroy())).toMatchObject({ codeName: 'OPERATION_INVALID', message: /not running/ });
    expect(await failure(web.resume())).toMatchObject({ codeName: 'INTERNAL_ERROR', message: /not paused/ });
    expect(await failure(web.start())).toMatchObject({ message: /already running/ });
    expect((await db.state()).state).toBe('SHUTOFF');
    expect((await web.state()).state).toBe('RUNNING');
  });

  it('the connection keeps working after every failure', async () => {
    await failure(c.domainByName('ghost'));
    await failure(c.defineDomain('<'));
    expect((await c.domainByName('web')).name).toBe('web');
  });
});

describe('Misuse of the binding is refused before libvirt is touched', () => {
  it('refuses a handle of the wrong kind with a TypeError', async () => {
    const lan = await native.networkLookupByName(c.handle, 'lan');
    expect(() => native.domainSuspend(lan.handle as never)).toThrow(TypeError);
    expect(() => native.domainSuspend({} as never)).toThrow(/expected a domain handle/);
    expect(() => native.connectGetHostname(lan.handle as never)).toThrow(/expected a connection handle/);
  });

  it('refuses arguments of the wrong type or range', async () => {
    const web = await c.domainByName('web');
    expect(() => native.domainLookupByName(c.handle, 42 as never)).toThrow(/name must be a string/);
    await expect(web.setMemory(-1n)).rejects.toThrow(RangeError);
    await expect(web.setMemory(2n ** 64n)).rejects.toThrow(/out of range/);
  });
});
