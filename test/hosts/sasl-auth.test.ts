import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Writable } from 'node:stream';
import pino from 'pino';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { type PrivateLibvirtd, startLibvirtd } from '../support/libvirtd.ts';
import { SASLPASSWD2 } from '../support/libvirtd-launch.ts';
import { forwardIntoNetns, type NetnsForwarder } from '../support/netns-forwarder.ts';
import { privateDaemonSkipReason } from '../support/private-daemon.ts';
import { runCommand } from '../support/run-command.ts';

// Password authentication against a daemon that asks for one: the private libvirtd listens on
// TCP with auth_tcp = "sasl" (DIGEST-MD5, a sasldb made by saslpasswd2, its SASL config found
// through SASL_CONF_PATH, so /etc/sasl2 is untouched), and the gateway answers its prompts
// from a host's username and password or passwordFile.

async function saslSkipReason(): Promise<string | undefined> {
  const daemon = privateDaemonSkipReason();
  if (daemon) return daemon;
  try {
    await runCommand(SASLPASSWD2, ['-v']);
    return undefined;
  } catch (error) {
    return `cannot run saslpasswd2 (${(error as Error).message.split('\n')[0]}); scripts/setup.sh installs sasl2-bin`;
  }
}

const skip = await saslSkipReason();
if (skip) console.warn(`skipping the SASL cases: ${skip}`);

// Long enough and unusual enough that finding them in a log line means the secret leaked.
const RIGHT = 'Right-pw-7f3c1e9a42d0';
const WRONG = 'Wrong-pw-b85e06d1c3f7';

describe.skipIf(skip !== undefined)('SASL username and password against a libvirtd that asks for them', () => {
  let daemon: PrivateLibvirtd;
  let forwarder: NetnsForwarder;
  let dir: string;
  let gw: TestGateway;
  const lines: string[] = [];

  beforeAll(async () => {
    daemon = await startLibvirtd({ name: 'sasl', saslUsers: { gateway: RIGHT } });
    const port = Number(new URL((daemon.tcpUri ?? '').replace('qemu+tcp', 'http')).port);
    // The daemon's TCP listener is on the loopback of its own network namespace.
    forwarder = await forwardIntoNetns(daemon.netnsPid, port);
    dir = await mkdtemp(join(tmpdir(), 'virtql-sasl-'));
    const passwordFile = join(dir, 'libvirt-password');
    await writeFile(passwordFile, `${RIGHT}\n`);
    await chmod(passwordFile, 0o600);
    const parts = { driver: 'qemu', transport: 'tcp', host: '127.0.0.1', port: forwarder.port, path: '/system' };
    const capture = new Writable({
      write(chunk: Buffer, _encoding, done) {
        lines.push(...chunk.toString().split('\n').filter(Boolean));
        done();
      },
    });
    gw = await startGateway({ builtin: 'test:///default' }, 'builtin', {
      logger: pino({ level: 'trace' }, capture),
      config: {
        hosts: [
          { name: 'from-file', uri: `qemu+tcp://gateway@127.0.0.1:${forwarder.port}/system`, passwordFile },
          { name: 'inline', ...parts, username: 'gateway', password: RIGHT },
          { name: 'wrong', ...parts, username: 'gateway', password: WRONG },
        ],
      },
    });
  }, 120_000);
  afterAll(async () => {
    await gw?.close();
    await forwarder?.close();
    await daemon?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const hostQuery = 'query($name: String!) { host(name: $name) { connected lastError hostname } }';
  type HostData = { host: { connected: boolean; lastError: string | null; hostname: string | null } };

  it('connects with the right password from passwordFile and from password', async () => {
    for (const name of ['from-file', 'inline']) {
      const res = await gw.query<HostData>(hostQuery, { name });
      expect(res.errors).toBeUndefined();
      expect(res.data?.host).toMatchObject({ connected: true, lastError: null });
      expect(res.data?.host.hostname).toBeTruthy();
    }
  });

  it('a wrong password is CONNECTION_FAILED saying authentication failed', async () => {
    const res = await gw.query<HostData>(hostQuery, { name: 'wrong' });
    expect(res.data?.host.connected).toBe(false);
    expect(res.data?.host.lastError).toMatch(/authentication failed/i);
    expect(res.errors?.[0]?.extensions?.code).toBe('CONNECTION_FAILED');
    expect(res.errors?.[0]?.message).toMatch(/authentication failed/i);

    const domains = await gw.query('{ host(name: "wrong") { domains { name } } }');
    expect(domains.errors?.[0]?.extensions?.code).toBe('CONNECTION_FAILED');
    expect(domains.errors?.[0]?.message).toMatch(/authentication failed/i);
  });

  it('neither password appears in any log line or error', async () => {
    const everything = [
      ...lines,
      JSON.stringify(await gw.query('{ hosts { name uri connected lastError } }')),
      JSON.stringify(await gw.query(hostQuery, { name: 'wrong' })),
    ];
    // The failure was logged, so the capture is not simply empty.
    expect(lines.some((line) => /authentication failed/i.test(line))).toBe(true);
    for (const text of everything) {
      expect(text).not.toContain(RIGHT);
      expect(text).not.toContain(WRONG);
    }
  });
});
