import { constants } from 'node:fs';
import { access } from 'node:fs/promises';
import { delimiter, join } from 'node:path';
import { runCommand } from './run-command.ts';

export const LIBVIRTD = '/usr/sbin/libvirtd';
export const VIRTLOGD = '/usr/sbin/virtlogd';

/** PATH plus the sbin directories, which a non-login shell may lack. */
export const DAEMON_PATH = [process.env.PATH ?? '', '/usr/local/sbin', '/usr/sbin', '/sbin'].join(delimiter);

async function isExecutable(path: string): Promise<boolean> {
  try {
    await access(path, constants.X_OK);
    return true;
  } catch {
    return false;
  }
}

async function onPath(name: string): Promise<boolean> {
  for (const dir of DAEMON_PATH.split(delimiter)) {
    if (dir !== '' && (await isExecutable(join(dir, name)))) return true;
  }
  return false;
}

/** Undefined when a private libvirtd can run here; otherwise why not. */
export async function libvirtdUnavailableReason(): Promise<string | undefined> {
  if (process.platform !== 'linux') return `not Linux (${process.platform})`;
  if (process.getuid?.() !== 0) return 'not running as root';
  for (const path of [LIBVIRTD, VIRTLOGD]) {
    if (!(await isExecutable(path))) return `no ${path}`;
  }
  for (const name of [
    'virsh',
    'unshare',
    'nsenter',
    'ip',
    'mount',
    'perl',
    'dnsmasq',
    'iptables',
    'qemu-system-x86_64',
  ]) {
    if (!(await onPath(name))) return `no ${name} on PATH`;
  }
  try {
    await runCommand('unshare', ['--mount', '--net', '--propagation', 'private', 'true'], { timeoutMs: 10_000 });
  } catch (error) {
    return `unshare is not permitted: ${(error as Error).message}`;
  }
  return undefined;
}
