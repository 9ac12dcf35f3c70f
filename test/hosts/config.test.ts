import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, type ConfigProblem, loadConfig, resolveConfig } from '../../src/config/config.ts';
import { parseHostList } from '../../src/config/host-list.ts';
import { problemsOf } from '../support/config-problems.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'virtql-config-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function file(name: string, text: string): Promise<string> {
  const path = join(dir, name);
  await mkdir(join(path, '..'), { recursive: true });
  await writeFile(path, text);
  return path;
}

describe('loadConfig', () => {
  it('without a file or hosts: defaults and the embedded test:///default host', async () => {
    const config = await loadConfig({ env: {} });
    expect(config).toEqual({
      port: 4000,
      host: '127.0.0.1',
      defaultHost: 'default',
      allowUnsafeClientUris: false,
      keepAlive: { intervalSeconds: 5, count: 3 },
      ready: { minHosts: 1, hostNames: false },
      events: { history: { maxEvents: 10_000, maxAgeSeconds: 300 } },
      warnings: [],
      hosts: [expect.objectContaining({ name: 'default', uri: 'test:///default' })],
      security: expect.objectContaining({ insecure: false, graphiql: true, introspection: true }),
    });
    expect(config.hosts[0]?.parts).toMatchObject({ driver: 'test', kind: 'in-process', path: 'default' });
  });

  it('reads a YAML file: hosts by URI and by parts, keepalive, the rest', async () => {
    const path = await file(
      'gateway.yaml',
      `port: 4100
host: 127.0.0.1
defaultHost: lab
allowUnsafeClientUris: true
keepAlive:
  intervalSeconds: 10
hosts:
  - name: local
    uri: qemu:///system
  - name: lab
    transport: ssh
    host: kvm1.example.com
    username: root
    params:
      keyfile: /etc/virtql/id_ed25519
      no_verify: 1
  - name: tls-box
    host: 10.0.0.5
    port: 16515
    password: s3cret
`,
    );
    const config = await loadConfig({ env: {}, file: path });
    expect(config.port).toBe(4100);
    expect(config.host).toBe('127.0.0.1');
    expect(config.defaultHost).toBe('lab');
    expect(config.allowUnsafeClientUris).toBe(true);
    expect(config.keepAlive).toEqual({ intervalSeconds: 10, count: 3 });
    expect(config.hosts.map((h) => [h.name, h.uri])).toEqual([
      ['local', 'qemu:///system'],
      ['lab', 'qemu+ssh://root@kvm1.example.com/system?keyfile=/etc/virtql/id_ed25519&no_verify=1'],
      ['tls-box', 'qemu+tls://10.0.0.5:16515/system'],
    ]);
    expect(config.hosts[1]?.parts.username).toBe('root');
    expect(config.hosts[2]?.password).toBe('s3cret');
  });

  it('reads a JSON file named by VIRTQL_CONFIG', async () => {
    const path = await file(
      'gateway.json',
      JSON.stringify({
        hosts: [
          { name: 'a', driver: 'test' },
          { name: 'b', uri: 'qemu+tcp://127.0.0.1:16509/system' },
        ],
      }),
    );
    const config = await loadConfig({ env: { VIRTQL_CONFIG: path } });
    expect(config.hosts.map((h) => h.uri)).toEqual(['test:///default', 'qemu+tcp://127.0.0.1:16509/system']);
    // Without a host named "default", the first host is the default.
    expect(config.defaultHost).toBe('a');
  });

  it('canonicalises configured URIs', async () => {
    const config = await resolveConfig({ hosts: [{ name: 'x', uri: 'QEMU://kvm1/system?No_Verify=1' }] });
    expect(config.hosts[0]?.uri).toBe('qemu+tls://kvm1/system?no_verify=1');
  });

  it('lets the environment override the file', async () => {
    const path = await file(
      'override.yaml',
      'port: 4100\ndefaultHost: a\nhosts:\n  - name: a\n    driver: test\n  - name: b\n    uri: qemu:///system\n',
    );
    const config = await loadConfig({
      file: path,
      env: {
        PORT: '8080',
        VIRTQL_DEFAULT_HOST: 'c',
        VIRTQL_HOSTS:
          ' b=qemu+tcp://10.1.1.1/system , c=qemu+libssh://h/system?sshauth=agent,privkey&known_hosts_verify=auto,d=test:///default',
      },
    });
    expect(config.port).toBe(8080);
    expect(config.defaultHost).toBe('c');
    expect(config.hosts.map((h) => [h.name, h.uri])).toEqual([
      ['a', 'test:///default'],
      ['b', 'qemu+tcp://10.1.1.1/system'],
      ['c', 'qemu+libssh://h/system?sshauth=agent,privkey&known_hosts_verify=auto'],
      ['d', 'test:///default'],
    ]);
  });

  it('reads where a host’s graphical consoles are reached', async () => {
    const config = await resolveConfig({
      hosts: [
        { name: 'nat', uri: 'qemu+tls://hv1.example.net/system', consoles: { graphicsAddress: '203.0.113.7' } },
        { name: 'v6', host: 'hv2', consoles: { graphicsAddress: '[fd00::2]' } },
        { name: 'plain', host: 'hv3' },
      ],
      consoles: { connectTimeoutMs: 2000 },
    });
    expect(config.hosts.map((h) => h.consoles)).toEqual([
      { graphicsAddress: '203.0.113.7' },
      { graphicsAddress: '[fd00::2]' },
      undefined,
    ]);
    expect(config.security.consoles?.connectTimeoutMs).toBe(2000);
  });

  it('uses VIRTQL_HOSTS alone, with no embedded default', async () => {
    const config = await loadConfig({ env: { VIRTQL_HOSTS: 'only=test:///default' } });
    expect(config.hosts.map((h) => h.name)).toEqual(['only']);
    expect(config.defaultHost).toBe('only');
  });

  it('reads passwordFile relative to the config file, without its trailing newline', async () => {
    await file('secrets/lab.pw', 'hunter2\n');
    const path = await file(
      'with-password.yaml',
      'hosts:\n  - name: lab\n    transport: tcp\n    host: h\n    passwordFile: secrets/lab.pw\n',
    );
    const config = await loadConfig({ env: {}, file: path });
    expect(config.hosts[0]).toMatchObject({ password: 'hunter2', passwordFile: 'secrets/lab.pw' });
  });

  it.each<[string, string, string, string]>([
    ['a file with another extension', 'gateway.toml', 'port = 1', 'must end in .yaml, .yml or .json'],
    ['bad YAML', 'broken.yaml', 'hosts: [\n', 'cannot parse'],
    ['a duplicate YAML key', 'dup.yaml', 'port: 1\nport: 2\n', 'cannot parse'],
    ['bad JSON', 'broken.json', '{"port": }', 'cannot parse'],
  ])('reports %s', async (_, name, text, reason) => {
    const path = await file(name, text);
    const [problem, ...more] = await problemsOf(() => loadConfig({ env: {}, file: path }));
    expect(more).toEqual([]);
    expect(problem?.path).toBe(path);
    expect(problem?.reason).toContain(reason);
  });

  it('reports a missing file', async () => {
    const path = join(dir, 'absent.yaml');
    expect(await problemsOf(() => loadConfig({ env: { VIRTQL_CONFIG: path } }))).toEqual([
      { path, reason: expect.stringMatching(/^cannot read: .*ENOENT/) },
    ]);
  });
});

describe('bad configuration', () => {
  it.each<[string, unknown, NodeJS.ProcessEnv, ConfigProblem[]]>([
    ['a port out of range', { port: 70000 }, {}, [{ path: 'port', reason: 'must be between 1 and 65535' }]],
    [
      'a bad PORT beside the embedded default host',
      { defaultHost: 'default' },
      { PORT: 'x' },
      [{ path: 'PORT', reason: 'must be an integer between 1 and 65535' }],
    ],
    ['a port that is text', { port: 'http' }, {}, [{ path: 'port', reason: 'must be a number' }]],
    ['a fractional port', { port: 80.5 }, {}, [{ path: 'port', reason: 'must be an integer' }]],
    ['an unknown key', { colour: 'blue' }, {}, [{ path: 'colour', reason: 'unknown key' }]],
    ['a config that is a list', [1, 2], {}, [{ path: '(top level)', reason: 'must be a map' }]],
    ['hosts that are a map', { hosts: { a: 'test:///default' } }, {}, [{ path: 'hosts', reason: 'must be a list' }]],
    ['a host that is text', { hosts: ['test:///default'] }, {}, [{ path: 'hosts[0]', reason: 'must be a map' }]],
    [
      'allowUnsafeClientUris as text',
      { allowUnsafeClientUris: 'yes' },
      {},
      [{ path: 'allowUnsafeClientUris', reason: 'must be true or false' }],
    ],
    [
      'a zero keepalive interval',
      { keepAlive: { intervalSeconds: 0 } },
      {},
      [{ path: 'keepAlive.intervalSeconds', reason: 'must be at least 1' }],
    ],
    [
      'an unknown keepalive key',
      { keepAlive: { interval: 5 } },
      {},
      [{ path: 'keepAlive.interval', reason: 'unknown key' }],
    ],
    [
      'a host without a name',
      { hosts: [{ uri: 'test:///default' }] },
      {},
      [{ path: 'hosts[0].name', reason: 'is required' }],
    ],
    [
      'a host name with a space',
      { hosts: [{ name: 'my host' }] },
      {},
      [{ path: 'hosts[0].name', reason: 'must be 1 to 64 letters, digits, "-", "_" or "."' }],
    ],
    [
      'an unknown host key',
      { hosts: [{ name: 'a', hostname: 'h' }] },
      {},
      [{ path: 'hosts[0].hostname', reason: 'unknown key' }],
    ],
    ['an empty uri', { hosts: [{ name: 'a', uri: '' }] }, {}, [{ path: 'hosts[0].uri', reason: 'must not be empty' }]],
    [
      'a uri with parts',
      { hosts: [{ name: 'a', uri: 'test:///default', driver: 'qemu', port: 1 }] },
      {},
      [
        { path: 'hosts[0].driver', reason: 'cannot be combined with uri' },
        { path: 'hosts[0].port', reason: 'cannot be combined with uri' },
      ],
    ],
    [
      'a bad port in parts',
      {
        hosts: [
          { name: 'a', driver: 'test' },
          { name: 'b', host: 'h', port: 0 },
        ],
      },
      {},
      [{ path: 'hosts[1].port', reason: 'must be between 1 and 65535' }],
    ],
    [
      'an unknown transport',
      { hosts: [{ name: 'a', transport: 'udp' }] },
      {},
      [{ path: 'hosts[0].transport', reason: expect.stringContaining('unknown transport "udp"') }],
    ],
    [
      'a relative socket parameter',
      { hosts: [{ name: 'a', transport: 'unix', params: { socket: 'sock' } }] },
      {},
      [{ path: 'hosts[0].params.socket', reason: 'must be an absolute path' }],
    ],
    [
      'a bad port inside a uri',
      { hosts: [{ name: 'a', uri: 'qemu+tls://h:0/system' }] },
      {},
      [{ path: 'hosts[0].uri.port', reason: 'must be between 1 and 65535' }],
    ],
    [
      'a uri that is no URI',
      { hosts: [{ name: 'a', uri: 'localhost' }] },
      {},
      [{ path: 'hosts[0].uri', reason: expect.stringContaining('is not a URI') }],
    ],
    [
      'a password inside a uri',
      { hosts: [{ name: 'a', uri: 'qemu+ssh://root:pw@h/system' }] },
      {},
      [{ path: 'hosts[0].uri.password', reason: expect.stringContaining('passwordFile') }],
    ],
    [
      'password and passwordFile',
      { hosts: [{ name: 'a', host: 'h', password: 'x', passwordFile: '/run/pw' }] },
      {},
      [{ path: 'hosts[0].passwordFile', reason: 'cannot be combined with password' }],
    ],
    [
      'a console graphicsAddress with a port',
      { hosts: [{ name: 'a', host: 'h', consoles: { graphicsAddress: 'ab:5900' } }] },
      {},
      [{ path: 'hosts[0].consoles.graphicsAddress', reason: 'must be a host name or an IP address' }],
    ],
    [
      'an unknown console setting of a host',
      { hosts: [{ name: 'a', host: 'h', consoles: { spice: true } }] },
      {},
      [{ path: 'hosts[0].consoles.spice', reason: 'unknown key' }],
    ],
    [
      'a password file that does not exist',
      { hosts: [{ name: 'a', host: 'h', passwordFile: '/nonexistent/virtql.pw' }] },
      {},
      [{ path: 'hosts[0].passwordFile', reason: 'cannot read /nonexistent/virtql.pw: ENOENT' }],
    ],
    [
      'two hosts of one name',
      {
        hosts: [
          { name: 'a', driver: 'test' },
          { name: 'A', driver: 'test' },
        ],
      },
      {},
      [{ path: 'hosts[1].name', reason: '"A" is already the name of hosts[0]' }],
    ],
    [
      'a default host that does not exist',
      { defaultHost: 'b', hosts: [{ name: 'a', driver: 'test' }] },
      {},
      [{ path: 'defaultHost', reason: 'no host named "b" (configured: a)' }],
    ],
    [
      'PORT that is not a number',
      {},
      { PORT: '80a' },
      [{ path: 'PORT', reason: 'must be an integer between 1 and 65535' }],
    ],
    ['PORT 0', {}, { PORT: '0' }, [{ path: 'PORT', reason: 'must be an integer between 1 and 65535' }]],
    [
      'VIRTQL_DEFAULT_HOST that does not exist',
      { hosts: [{ name: 'a', driver: 'test' }] },
      { VIRTQL_DEFAULT_HOST: 'zz' },
      [{ path: 'VIRTQL_DEFAULT_HOST', reason: 'no host named "zz" (configured: a)' }],
    ],
    [
      'VIRTQL_DEFAULT_HOST with only the embedded host',
      {},
      { VIRTQL_DEFAULT_HOST: 'zz' },
      [{ path: 'VIRTQL_DEFAULT_HOST', reason: expect.stringContaining('only the embedded "default"') }],
    ],
    [
      'VIRTQL_HOSTS without names',
      {},
      { VIRTQL_HOSTS: 'test:///default' },
      [{ path: 'VIRTQL_HOSTS', reason: '"test:///default" is not name=uri' }],
    ],
    [
      'VIRTQL_HOSTS with a bad name',
      {},
      { VIRTQL_HOSTS: 'a b=test:///default' },
      [{ path: 'VIRTQL_HOSTS', reason: expect.stringContaining('"a b" is not a host name') }],
    ],
    [
      'VIRTQL_HOSTS with a bad URI',
      {},
      { VIRTQL_HOSTS: 'a=test:///default,lab=qemu+tls://h:0/system' },
      [{ path: 'VIRTQL_HOSTS[lab].uri.port', reason: 'must be between 1 and 65535' }],
    ],
    [
      'VIRTQL_HOSTS naming a host twice',
      {},
      { VIRTQL_HOSTS: 'a=test:///default,a=qemu:///system' },
      [{ path: 'VIRTQL_HOSTS[a].name', reason: '"a" is already the name of VIRTQL_HOSTS[a]' }],
    ],
  ])('%s', async (_, raw, env, expected) => {
    expect(await problemsOf(() => resolveConfig(raw, { env }))).toEqual(expected);
  });

  it('lists every problem, each on its own line of the message', async () => {
    const error = await resolveConfig(
      {
        port: 0,
        hosts: [{ name: 'a', transport: 'tcp', host: 'h', port: 99999, params: { foo: 'x' } }, { name: 'a' }],
      },
      { env: { PORT: 'x' }, source: 'gateway.yaml' },
    ).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ConfigError);
    const { problems, message } = error as ConfigError;
    expect(problems.map((p) => p.path)).toEqual([
      'port',
      'hosts[1].name',
      'PORT',
      'hosts[0].port',
      'hosts[0].params.foo',
    ]);
    expect(message).toContain('invalid configuration (gateway.yaml):\n  port: must be between 1 and 65535\n');
    expect(message).toContain('\n  hosts[0].port: must be between 1 and 65535');
  });

  it('reports an empty password file', async () => {
    const pw = await file('empty.pw', '\n');
    expect(await problemsOf(() => resolveConfig({ hosts: [{ name: 'a', host: 'h', passwordFile: pw }] }))).toEqual([
      { path: 'hosts[0].passwordFile', reason: `${pw} is empty` },
    ]);
  });
});

describe('parseHostList', () => {
  it.each<[string, Array<{ name: string; uri: string }>]>([
    ['a=test:///default', [{ name: 'a', uri: 'test:///default' }]],
    [
      'a=qemu:///system, b=qemu+ssh://root@h/system',
      [
        { name: 'a', uri: 'qemu:///system' },
        { name: 'b', uri: 'qemu+ssh://root@h/system' },
      ],
    ],
    // A comma inside a URI stays in the URI.
    [
      'lab=qemu+libssh://h/system?sshauth=agent,privkey,password,x=test:///default',
      [
        { name: 'lab', uri: 'qemu+libssh://h/system?sshauth=agent,privkey,password' },
        { name: 'x', uri: 'test:///default' },
      ],
    ],
    ['a=test:///default,', [{ name: 'a', uri: 'test:///default' }]],
    ['', []],
  ])('%j', (text, entries) => {
    expect(parseHostList(text)).toEqual({ entries, problems: [] });
  });
});
