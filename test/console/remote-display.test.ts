import { describe, expect, it } from 'vitest';
import {
  DisplayUnavailableError,
  displayAddress,
  displayRouteOf,
  formatAddress,
} from '../../src/console/remote-display.ts';
import { ByteQueue, offerNoAuth, RfbError } from '../../src/console/rfb-handshake.ts';
import { desEncrypt, reverseBits, vncAuthResponse } from '../../src/console/vnc-des.ts';
import { graphicsPasswordXml, parseDomainXml } from '../../src/libvirt/xml/index.ts';

describe('VNC authentication DES', () => {
  it('is single DES (FIPS 46 / NBS test vectors)', () => {
    const encrypt = (key: string, plain: string) =>
      desEncrypt(Buffer.from(key, 'hex'), Buffer.from(plain, 'hex')).toString('hex');
    expect(encrypt('133457799bbcdff1', '0123456789abcdef')).toBe('85e813540f0ab405');
    expect(encrypt('0000000000000000', '0000000000000000')).toBe('8ca64de9c1b123a7');
    expect(encrypt('0123456789abcdef', '4e6f772069732074')).toBe('3fa40e8a984d4815');
  });

  it('keys DES with the password’s first 8 bytes, zero-padded, each byte bit-reversed', () => {
    expect([0x01, 0x80, 0x0f, 0xa5].map(reverseBits)).toEqual([0x80, 0x01, 0xf0, 0xa5]);
    const challenge = Buffer.from('00112233445566778899aabbccddeeff', 'hex');
    const key = Buffer.from([...Buffer.from('pass\0\0\0\0')].map(reverseBits));
    expect(vncAuthResponse('pass', challenge)).toEqual(desEncrypt(key, challenge));
    // Only 8 bytes count, as in every VNC server.
    expect(vncAuthResponse('12345678-and-more', challenge)).toEqual(vncAuthResponse('12345678', challenge));
    expect(() => vncAuthResponse('x', Buffer.alloc(8))).toThrow(RangeError);
  });
});

describe('where the gateway connects for a remote display', () => {
  const vnc = { type: 'vnc', port: 5901, listenType: 'address' };
  const route = { uriHost: 'hv1.example.net' };

  it('a wildcard listen address means the URI’s host; a specific one is used as it is', () => {
    expect(displayAddress({ ...vnc, listen: '0.0.0.0' }, route)).toEqual({ host: 'hv1.example.net', port: 5901 });
    expect(displayAddress({ ...vnc, listen: '::' }, route)).toEqual({ host: 'hv1.example.net', port: 5901 });
    expect(displayAddress({ ...vnc, listen: '10.1.2.3' }, route)).toEqual({ host: '10.1.2.3', port: 5901 });
    expect(displayAddress({ ...vnc, listen: '0.0.0.0' }, { uriHost: '[fd00::1]' })).toEqual({
      host: 'fd00::1',
      port: 5901,
    });
  });

  it('the host’s consoles.graphicsAddress overrides the listen address', () => {
    const nat = { ...route, graphicsAddress: '203.0.113.7' };
    expect(displayAddress({ ...vnc, listen: '10.1.2.3' }, nat)).toEqual({ host: '203.0.113.7', port: 5901 });
    expect(displayAddress({ ...vnc, listen: '127.0.0.1' }, nat)).toEqual({ host: '203.0.113.7', port: 5901 });
  });

  it('a display on the remote loopback, a socket or no listener is an error saying why, not a local connect', () => {
    expect(() => displayAddress({ ...vnc, listen: '127.0.0.1' }, route)).toThrow(
      /listens on 127\.0\.0\.1:5901, unreachable loopback of hv1\.example\.net/,
    );
    expect(() => displayAddress({ ...vnc, listen: '::1' }, route)).toThrow(DisplayUnavailableError);
    expect(() => displayAddress({ type: 'vnc', listenType: 'socket', socket: '/run/vnc.sock' }, route)).toThrow(
      /no TCP address \(listen type socket\)/,
    );
    expect(() => displayAddress({ type: 'vnc', listenType: 'none', port: -1 }, route)).toThrow(/listen type none/);
    expect(() => displayAddress({ type: 'spice', port: 5900, listen: '0.0.0.0' }, route)).toThrow(/spice, not VNC/);
    expect(() => displayAddress({ ...vnc, port: -1, listen: '0.0.0.0' }, route)).toThrow(/no TCP port/);
    // A loopback display of a host whose URI is itself the loopback (an ssh tunnel's end, a test) is reachable.
    expect(displayAddress({ ...vnc, listen: '127.0.0.1' }, { uriHost: 'localhost' })).toEqual({
      host: '127.0.0.1',
      port: 5901,
    });
  });

  it('local URIs have no route (libvirt hands their displays over); network ones have the URI’s host', () => {
    expect(displayRouteOf('qemu:///system')).toBeUndefined();
    expect(displayRouteOf('qemu+unix:///system?socket=/run/x')).toBeUndefined();
    expect(displayRouteOf('test:///default')).toBeUndefined();
    expect(displayRouteOf('qemu+tcp://127.0.0.1:16509/system')).toEqual({ uriHost: '127.0.0.1' });
    expect(displayRouteOf('qemu+ssh://root@hv1/system', { graphicsAddress: '10.0.0.1' })).toEqual({
      uriHost: 'hv1',
      graphicsAddress: '10.0.0.1',
    });
    expect(formatAddress('fd00::1', 5900)).toBe('[fd00::1]:5900');
    expect(formatAddress('hv1', 5900)).toBe('hv1:5900');
  });
});

describe('the graphics XML of a one-time password', () => {
  const live = `<domain type='qemu' id='3'>
  <name>vm</name>
  <memory unit='KiB'>65536</memory>
  <os><type arch='x86_64' machine='pc'>hvm</type></os>
  <devices>
    <graphics type='spice' autoport='yes'/>
    <graphics type='vnc' port='5901' autoport='no' listen='0.0.0.0' keymap='de' sharePolicy='force-shared' passwdValidTo='1970-01-01T00:00:01'>
      <listen type='address' address='0.0.0.0'/>
    </graphics>
  </devices>
</domain>`;

  it('sets passwd and passwdValidTo on the device at the index and keeps everything else', () => {
    const xml = graphicsPasswordXml(live, 1, 'Ab3-x_9z', new Date('2026-12-07T21:00:05.123Z'));
    const wrapped = parseDomainXml(
      `<domain type='qemu'><name>x</name><memory>1</memory><os><type>hvm</type></os><devices>${xml}</devices></domain>`,
    );
    expect(wrapped.graphics).toEqual([
      { type: 'vnc', port: 5901, autoport: false, listen: '0.0.0.0', listenType: 'address', socket: undefined },
    ]);
    expect(xml).toContain(`keymap="de"`);
    expect(xml).toContain(`sharePolicy="force-shared"`);
    expect(xml).toContain(`passwd="Ab3-x_9z"`);
    expect(xml).toContain(`passwdValidTo="2026-12-07T21:00:05"`);
    expect(xml.match(/passwdValidTo/g)).toHaveLength(1);
    expect(() => graphicsPasswordXml(live, 2, 'x', new Date())).toThrow(/no graphics device 2/);
  });
});

describe('the RFB server side the browser sees', () => {
  async function greet(version: string) {
    const queue = new ByteQueue();
    const sent: Buffer[] = [];
    const done = offerNoAuth(queue, (data) => sent.push(data));
    queue.push(Buffer.from(version, 'latin1'));
    return { queue, sent, done };
  }

  it('3.8: one security type, None, then SecurityResult OK; ClientInit stays for the display', async () => {
    const { queue, sent, done } = await greet('RFB 003.008\n');
    queue.push(Buffer.from([1, 1])); // chose None, then ClientInit (shared)
    await done;
    expect(Buffer.concat(sent)).toEqual(Buffer.from('RFB 003.008\n\x01\x01\x00\x00\x00\x00', 'latin1'));
    expect(queue.drain()).toEqual(Buffer.from([1]));
  });

  it('3.3: the server names None; a client choosing another type or not speaking RFB is refused', async () => {
    const old = await greet('RFB 003.003\n');
    await old.done;
    expect(Buffer.concat(old.sent).subarray(12)).toEqual(Buffer.from([0, 0, 0, 1]));
    const picky = await greet('RFB 003.008\n');
    picky.queue.push(Buffer.from([2]));
    await expect(picky.done).rejects.toThrow(RfbError);
    const http = await greet('GET / HTTP/1');
    await expect(http.done).rejects.toThrow(/does not speak RFB/);
  });

  it('a queue past its limit fails instead of growing', async () => {
    const queue = new ByteQueue(16);
    const read = queue.read(32);
    queue.push(Buffer.alloc(17));
    await expect(read).rejects.toThrow(/too much data/);
  });
});
