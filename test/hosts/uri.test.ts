import { describe, expect, it } from 'vitest';
import {
  assertSafeClientUri,
  buildUri,
  checkUriParts,
  parseHostUri,
  resolveUriParts,
  UriPartError,
  type UriParts,
  type UriPartsInput,
} from '../../src/hosts/uri.ts';

function failure(run: () => unknown): UriPartError {
  try {
    run();
  } catch (error) {
    if (error instanceof UriPartError) return error;
    throw error;
  }
  throw new Error('expected a UriPartError');
}

describe('buildUri', () => {
  it.each<[string, UriParts, string, number | undefined]>([
    ['nothing: the local qemu system daemon', {}, 'qemu:///system', undefined],
    ['the test driver, in-process', { driver: 'test' }, 'test:///default', undefined],
    ['a host alone: tls', { host: 'kvm1.example.com' }, 'qemu+tls://kvm1.example.com/system', 16514],
    ['tls alone: localhost', { transport: 'tls' }, 'qemu+tls://localhost/system', 16514],
    ['tcp', { transport: 'tcp' }, 'qemu+tcp://localhost/system', 16509],
    ['ssh', { transport: 'ssh' }, 'qemu+ssh://localhost/system', 22],
    ['libssh2', { transport: 'libssh2' }, 'qemu+libssh2://localhost/system', 22],
    ['libssh', { transport: 'libssh' }, 'qemu+libssh://localhost/system', 22],
    ['unix: no host, no port', { transport: 'unix' }, 'qemu+unix:///system', undefined],
    [
      'ext: its command',
      { transport: 'ext', params: { command: '/usr/local/bin/tunnel' } },
      'qemu+ext:///system?command=/usr/local/bin/tunnel',
      undefined,
    ],
    ['qemu session', { path: 'session' }, 'qemu:///session', undefined],
    ['a leading slash on the path', { path: '/session' }, 'qemu:///session', undefined],
    [
      'the test driver over tcp with a port',
      { driver: 'test', transport: 'tcp', host: '127.0.0.1', port: 5000 },
      'test+tcp://127.0.0.1:5000/default',
      5000,
    ],
    [
      'a test driver host file',
      { driver: 'test', path: '/srv/hosts/node.xml' },
      'test:///srv/hosts/node.xml',
      undefined,
    ],
    ['lxc', { driver: 'lxc' }, 'lxc:///system', undefined],
    [
      'an IPv4 host and explicit default port',
      { transport: 'ssh', host: '10.0.0.7', port: 22 },
      'qemu+ssh://10.0.0.7:22/system',
      22,
    ],
  ])('%s → %s', (_, parts, uri, effectivePort) => {
    expect(buildUri(parts)).toBe(uri);
    const resolved = resolveUriParts(parts);
    expect(resolved.uri).toBe(uri);
    expect(resolved.effectivePort).toBe(effectivePort);
  });

  it.each<[string, UriParts, string]>([
    [
      'username, IPv6 host, port and params',
      {
        transport: 'ssh',
        host: '::1',
        port: 2222,
        username: 'root',
        params: { keyfile: '/root/.ssh/id_ed25519', no_verify: '1' },
      },
      'qemu+ssh://root@[::1]:2222/system?keyfile=/root/.ssh/id_ed25519&no_verify=1',
    ],
    ['a bracketed IPv6 host', { transport: 'tcp', host: '[fe80::1]' }, 'qemu+tcp://[fe80::1]/system'],
    [
      'a username with a space, @ and %',
      { transport: 'ssh', host: 'h', username: 'ops 100%@corp' },
      'qemu+ssh://ops%20100%25%40corp@h/system',
    ],
    [
      'a socket path with a space',
      { transport: 'unix', params: { socket: '/run/my dir/libvirt-sock' } },
      'qemu+unix:///system?socket=/run/my%20dir/libvirt-sock',
    ],
    // libvirt decodes %XX but not '+': a literal plus must be escaped.
    [
      'a GnuTLS priority with +',
      { transport: 'tls', host: 'h', params: { tls_priority: 'NORMAL:+VERS-TLS1.3' } },
      'qemu+tls://h/system?tls_priority=NORMAL:%2BVERS-TLS1.3',
    ],
    // '&', '=', '?' and ';' inside a value must not read as separators.
    [
      'a name holding a query',
      { transport: 'tls', host: 'h', params: { name: 'qemu:///system?a=1&b=2;c' } },
      'qemu+tls://h/system?name=qemu:///system%3Fa%3D1%26b%3D2%3Bc',
    ],
    [
      'sshauth with commas',
      { transport: 'libssh', host: 'h', params: { sshauth: 'agent,privkey' } },
      'qemu+libssh://h/system?sshauth=agent,privkey',
    ],
    [
      'a host file path with a space and %',
      { driver: 'test', path: '/srv/100% sure/node.xml' },
      'test:///srv/100%25%20sure/node.xml',
    ],
    [
      'upper-case parameter names, stored lowercase',
      { transport: 'tls', host: 'h', params: { No_Verify: '1' } },
      'qemu+tls://h/system?no_verify=1',
    ],
  ])('escapes %s', (_, parts, uri) => {
    expect(buildUri(parts)).toBe(uri);
    // What is built parses back to the same parts.
    expect(buildUri(parseHostUri(uri))).toBe(uri);
  });

  it('takes YAML-typed parameter values: numbers and booleans', () => {
    expect(buildUri({ transport: 'ssh', params: { no_verify: 1, no_tty: true } } as UriPartsInput)).toBe(
      'qemu+ssh://localhost/system?no_verify=1&no_tty=1',
    );
  });
});

describe('parseHostUri', () => {
  it.each<[string, UriParts, string]>([
    ['qemu:///system', { driver: 'qemu', path: 'system' }, 'qemu:///system'],
    ['test:///default', { driver: 'test', path: 'default' }, 'test:///default'],
    [
      'qemu://kvm1/system',
      { driver: 'qemu', transport: 'tls', host: 'kvm1', path: 'system' },
      'qemu+tls://kvm1/system',
    ],
    [
      'qemu+tcp:///system',
      { driver: 'qemu', transport: 'tcp', host: 'localhost', path: 'system' },
      'qemu+tcp://localhost/system',
    ],
    ['qemu+tls://h', { driver: 'qemu', transport: 'tls', host: 'h', path: 'system' }, 'qemu+tls://h/system'],
    [
      'qemu+ssh://user@h:22/system?no_tty=1',
      {
        driver: 'qemu',
        transport: 'ssh',
        host: 'h',
        port: 22,
        username: 'user',
        path: 'system',
        params: { no_tty: '1' },
      },
      'qemu+ssh://user@h:22/system?no_tty=1',
    ],
    [
      'QEMU+SSH://[::1]/system?SOCKET=/run/s',
      { driver: 'qemu', transport: 'ssh', host: '::1', path: 'system', params: { socket: '/run/s' } },
      'qemu+ssh://[::1]/system?socket=/run/s',
    ],
    [
      'qemu+tls://h/system?tls_priority=NORMAL:+VERS-TLS1.3',
      { driver: 'qemu', transport: 'tls', host: 'h', path: 'system', params: { tls_priority: 'NORMAL:+VERS-TLS1.3' } },
      'qemu+tls://h/system?tls_priority=NORMAL:%2BVERS-TLS1.3',
    ],
    ['test:///srv/a%20b/node.xml', { driver: 'test', path: '/srv/a b/node.xml' }, 'test:///srv/a%20b/node.xml'],
  ])('%s', (uri, parts, canonical) => {
    expect(parseHostUri(uri)).toEqual(parts);
    expect(buildUri(parseHostUri(uri))).toBe(canonical);
  });

  it.each<[string, string, RegExp]>([
    ['', 'uri', /empty/],
    ['qemu:///system extra', 'uri', /spaces/],
    ['not a uri', 'uri', /spaces/],
    ['qemu/system', 'uri', /not a URI/],
    ['qemu+tls://h:70000/system', 'uri', /not a URI/],
    ['qemu:/system', 'uri', /form driver\[\+transport\]/],
    ['qemu:///system#x', 'uri', /fragment/],
    ['qemu+ssh://root:secret@h/system', 'password', /password or passwordFile/],
    ['kvm:///system', 'driver', /unknown driver "kvm"/],
    ['qemu+udp://h/system', 'transport', /unknown transport "udp"/],
    ['qemu+tls://h_1/system', 'host', /not a hostname/],
    ['qemu+tls://h:0/system', 'port', /between 1 and 65535/],
    ['qemu+unix://h/system', 'host', /no host/],
    ['qemu:///root', 'path', /not a qemu driver path/],
    ['qemu:///sys%ZZ', 'path', /malformed/],
    ['qemu+unix:///system?socket=/tmp/s;command=/bin/sh', 'params', /';'/],
    ['qemu+unix:///system?socket=/a&SOCKET=/b', 'params.SOCKET', /more than once/],
    ['qemu+unix:///system?=x', 'params', /empty name/],
    ['qemu+tls://h/system?verify=0', 'params.verify', /unknown parameter/],
    ['qemu+tls://h/system?no_verify=yes', 'params.no_verify', /0, 1/],
    ['qemu+tcp://h/system?keyfile=/k', 'params.keyfile', /not used by the tcp transport/],
    ['qemu+ext:///system', 'params.command', /needs the command/],
  ])('rejects %j at %s', (uri, field, reason) => {
    const error = failure(() => parseHostUri(uri));
    expect(error.field).toBe(field);
    expect(error.reason).toMatch(reason);
    expect(error.message).toBe(`${field}: ${error.reason}`);
  });
});

describe('validation', () => {
  it.each<[string, UriPartsInput, string, RegExp]>([
    ['an unknown driver', { driver: 'kvm' }, 'driver', /expected one of qemu, test/],
    ['a non-string driver', { driver: 7 }, 'driver', /unknown driver 7/],
    [
      'an unknown transport',
      { transport: 'udp' },
      'transport',
      /expected one of tls, tcp, ssh, unix, libssh2, libssh, ext/,
    ],
    ['a host with a space', { host: 'bad host' }, 'host', /not a hostname or IP address/],
    ['a host label starting with -', { host: '-x.example' }, 'host', /not a hostname/],
    ['an all-numeric top label', { host: '256.1.1.1' }, 'host', /not a hostname/],
    ['an IPv6 zone', { host: 'fe80::1%eth0' }, 'host', /not a hostname/],
    ['an empty host', { host: '' }, 'host', /non-empty/],
    ['a host on unix', { transport: 'unix', host: 'h' }, 'host', /takes no host/],
    ['port 0', { host: 'h', port: 0 }, 'port', /^must be between 1 and 65535$/],
    ['port 65536', { host: 'h', port: 65536 }, 'port', /^must be between 1 and 65535$/],
    ['a fractional port', { host: 'h', port: 22.5 }, 'port', /integer/],
    ['a string port', { host: 'h', port: '22' }, 'port', /integer/],
    ['a port on unix', { transport: 'unix', port: 1 }, 'port', /unix transport takes no port/],
    ['a port on a local URI', { port: 16509 }, 'port', /local URI/],
    ['a port on ext', { transport: 'ext', port: 1, params: { command: '/x' } }, 'port', /ext transport takes no port/],
    ['a qemu path that is not one', { path: 'root' }, 'path', /expected system or session/],
    ['a relative test file', { driver: 'test', path: 'node.xml' }, 'path', /absolute path/],
    ['a lone slash', { path: '/' }, 'path', /not a qemu driver path/],
    ['a control character in the path', { driver: 'test', path: '/a\nb' }, 'path', /control/],
    ['a username on unix', { transport: 'unix', username: 'root' }, 'username', /takes no username/],
    ['a username on a local URI', { username: 'root' }, 'username', /local URI/],
    ['an empty username', { host: 'h', username: '' }, 'username', /non-empty/],
    ['params as a list', { params: ['socket=/x'] }, 'params', /map/],
    ['an unknown parameter', { params: { foo: '1' } }, 'params.foo', /unknown parameter; libvirt's are name, /],
    ['a relative socket', { transport: 'unix', params: { socket: 'libvirt-sock' } }, 'params.socket', /absolute path/],
    ['a control character in a value', { transport: 'unix', params: { socket: '/a\n' } }, 'params.socket', /control/],
    ['a non-string value', { transport: 'unix', params: { socket: { path: '/a' } } }, 'params.socket', /string/],
    ['no_verify 2', { host: 'h', params: { no_verify: '2' } }, 'params.no_verify', /0, 1/],
    ['an unknown mode', { params: { mode: 'fast' } }, 'params.mode', /auto, legacy, direct/],
    ['an unknown proxy', { transport: 'ssh', params: { proxy: 'socks' } }, 'params.proxy', /auto, netcat, native/],
    [
      'an unknown ssh auth method',
      { transport: 'libssh', params: { sshauth: 'agent,kerberos' } },
      'params.sshauth',
      /comma-separated/,
    ],
    [
      'a repeated ssh auth method',
      { transport: 'libssh', params: { sshauth: 'agent,agent' } },
      'params.sshauth',
      /more than once/,
    ],
    [
      'an unknown known_hosts_verify',
      { transport: 'libssh2', params: { known_hosts_verify: 'never' } },
      'params.known_hosts_verify',
      /normal, auto, ignore/,
    ],
    [
      'a netcat with shell syntax',
      { transport: 'ssh', params: { netcat: 'nc; rm -rf /' } },
      'params.netcat',
      /program name/,
    ],
    [
      'a priority with a space',
      { host: 'h', params: { tls_priority: 'NORMAL SECURE' } },
      'params.tls_priority',
      /GnuTLS/,
    ],
    ['a name that is no URI', { host: 'h', params: { name: 'system' } }, 'params.name', /libvirt URI/],
    [
      'pkipath on ssh',
      { transport: 'ssh', params: { pkipath: '/pki' } },
      'params.pkipath',
      /not used by the ssh transport; it applies to tls/,
    ],
    ['no_tty on tls', { host: 'h', params: { no_tty: '1' } }, 'params.no_tty', /not used by the tls transport/],
    [
      'params on the in-process test driver',
      { driver: 'test', params: { socket: '/s' } },
      'params.socket',
      /in-process/,
    ],
    [
      'a parameter given twice',
      { transport: 'unix', params: { socket: '/a', Socket: '/b' } },
      'params.Socket',
      /more than once/,
    ],
    ['ext without a command', { transport: 'ext' }, 'params.command', /needs the command/],
  ])('rejects %s at %s', (_, parts, field, reason) => {
    const error = failure(() => buildUri(parts));
    expect(error).toBeInstanceOf(UriPartError);
    expect(error.field).toBe(field);
    expect(error.reason).toMatch(reason);
    expect(error.message).toBe(`${field}: ${error.reason}`);
  });

  it('lists every problem at once', () => {
    const problems = checkUriParts({ driver: 'kvm', transport: 'udp', port: 0, params: { foo: '1', socket: 'rel' } });
    expect(problems.map((p) => p.field)).toEqual(['driver', 'transport', 'port', 'params.foo', 'params.socket']);
    expect(checkUriParts({ transport: 'ssh', host: 'h' })).toEqual([]);
  });
});

describe('assertSafeClientUri', () => {
  const strict = { allowUnsafeParams: false };

  it.each<[string, UriPartsInput, string]>([
    ['the ext transport', { transport: 'ext', params: { command: '/bin/sh' } }, 'transport'],
    ['command', { transport: 'ssh', host: 'h', params: { command: '/tmp/evil' } }, 'params.command'],
    ['netcat', { transport: 'ssh', host: 'h', params: { netcat: '/tmp/evil' } }, 'params.netcat'],
    ['socket', { transport: 'unix', params: { socket: '/run/other/libvirt-sock' } }, 'params.socket'],
    ['socket on ssh', { transport: 'ssh', host: 'h', params: { socket: '/run/s' } }, 'params.socket'],
    ['keyfile', { transport: 'ssh', host: 'h', params: { keyfile: '/root/.ssh/id_rsa' } }, 'params.keyfile'],
    ['pkipath', { transport: 'tls', host: 'h', params: { pkipath: '/etc/pki/other' } }, 'params.pkipath'],
    ['known_hosts', { transport: 'libssh', host: 'h', params: { known_hosts: '/etc/passwd' } }, 'params.known_hosts'],
    ['authfile', { transport: 'tcp', host: 'h', params: { authfile: '/etc/shadow' } }, 'params.authfile'],
    ['a mixed-case name', { transport: 'ssh', host: 'h', params: { CoMmAnD: '/tmp/evil' } }, 'params.command'],
    ['a host file for the test driver', { driver: 'test', path: '/etc/passwd' }, 'path'],
  ])('refuses %s unless the operator allows it', (_, parts, field) => {
    const error = failure(() => assertSafeClientUri(parts, strict));
    expect(error.field).toBe(field);
    expect(error.reason).toMatch(/allowUnsafeClientUris/);
    expect(assertSafeClientUri(parts, { allowUnsafeParams: true }).uri).toBe(buildUri(parts));
  });

  it('refuses a percent-encoded parameter name as well', () => {
    const parts = parseHostUri('qemu+ssh://h/system?%63ommand=/tmp/evil');
    expect(failure(() => assertSafeClientUri(parts, strict)).field).toBe('params.command');
  });

  it.each<[string, UriPartsInput]>([
    ['plain tls', { host: 'dest.example.com' }],
    ['tcp with a port', { transport: 'tcp', host: '127.0.0.1', port: 16509 }],
    [
      'ssh with no_verify and no_tty',
      { transport: 'ssh', username: 'root', host: 'h', params: { no_verify: '1', no_tty: '1' } },
    ],
    [
      'libssh with sshauth',
      { transport: 'libssh', host: 'h', params: { sshauth: 'agent', known_hosts_verify: 'auto' } },
    ],
    ['tls with a priority', { host: 'h', params: { tls_priority: 'NORMAL', no_verify: '1' } }],
  ])('accepts %s', (_, parts) => {
    expect(assertSafeClientUri(parts, strict).uri).toBe(buildUri(parts));
  });

  it('still validates what it allows', () => {
    expect(failure(() => assertSafeClientUri({ transport: 'tcp', port: 0 }, { allowUnsafeParams: true })).field).toBe(
      'port',
    );
  });
});
