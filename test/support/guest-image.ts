/**
 * A tiny Linux guest for the tests that need a real guest OS (ACPI shutdown, reboot, balloon,
 * PCI detach): Debian's own kernel plus an initramfs of busybox-static and the few modules it
 * needs. Both come from the Debian mirror as .debs (`apt-get download`, `dpkg-deb -x`), so
 * nothing is installed on the host and /boot is never touched. The result is cached under
 * /var/tmp/virtql-guest/<kernelVersion>/ and built atomically (temp dir + rename).
 *
 * The guest's /init mounts proc/sys/dev, loads the modules in dependency order, starts busybox
 * acpid so that the ACPI power button runs `poweroff -f`, prints GUEST_READY_MARKER on the
 * serial console, then runs an interactive shell on it (respawned when it exits).
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { constants, existsSync } from 'node:fs';
import { access, copyFile, mkdir, mkdtemp, readdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, delimiter, join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { promisify } from 'node:util';
import { gzipSync } from 'node:zlib';
import { type CpioEntry, cpioNewc } from './cpio-newc.ts';
import { isProcessGone } from './process-exit.ts';

const execFileAsync = promisify(execFile);

export interface GuestImage {
  /** The Debian kernel: its ELF vmlinux (QEMU boots it through PVH), or the bzImage when that cannot be extracted. */
  kernel: string;
  /** A gzip'd newc cpio: busybox, the modules and /init. */
  initrd: string;
  /** e.g. 6.1.0-56-amd64 */
  kernelVersion: string;
  cmdline: string;
}

/** What /init prints on the serial console once acpid runs: from then on the guest obeys ACPI shutdown. */
export const GUEST_READY_MARKER = 'VIRTQL-GUEST-READY';
/** What /init prints around the user-data of a cloud-init seed CD-ROM it found (-BEGIN, -END), and before its label (-LABEL). */
export const SEED_MARKER = 'VIRTQL-GUEST-SEED';
/** What the power-button handler prints just before `poweroff -f`. */
export const GUEST_POWEROFF_MARKER = 'VIRTQL-GUEST-POWER-BUTTON';

/** Override with VIRTQL_GUEST_CACHE (e.g. to build somewhere else than /var/tmp). */
const CACHE_ROOT = process.env.VIRTQL_GUEST_CACHE || '/var/tmp/virtql-guest';
const KERNEL_META_PACKAGE = 'linux-image-amd64';
const BUSYBOX_PACKAGE = 'busybox-static';
/** Loaded with their dependencies; those built into the kernel are skipped. */
const WANTED_MODULES = [
  'virtio_pci',
  'virtio_balloon',
  'virtio_net',
  'virtio_blk',
  'virtio_console',
  'evdev',
  'button',
  // A CD-ROM on SATA (a cloud-init seed): the AHCI controller, the SCSI CD-ROM driver, ISO 9660.
  'ahci',
  'sr_mod',
  'isofs',
];
/** Bump when the layout of the cached kernel directory changes. */
const KERNEL_DIR_FORMAT = 2;
/** Changes when `apt-get update` fetched new package lists. */
const APT_LISTS = '/var/lib/apt/lists';
const STALE_BUILD_MS = 60 * 60 * 1000;
/** How long a run waits for another run's build of the same kernel before building too. */
const LOCK_WAIT_MS = 15 * 60 * 1000;

/**
 * ttyS0 for the marker; no_timer_check and tsc=reliable spare TCG the timer calibration
 * checks; mitigations=off because TCG pays dearly for them. No panic=: a broken /init then
 * stops the guest with its panic on the console instead of rebooting in a loop.
 */
const CMDLINE = 'console=ttyS0 loglevel=4 mitigations=off no_timer_check tsc=reliable 8250.nr_uarts=1';

const INIT_SCRIPT = `#!/bin/sh
/bin/busybox --install -s
export PATH=/sbin:/bin:/usr/sbin:/usr/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/virtql-modules); do
  insmod "/lib/modules/$m.ko" || echo "virtql-guest: insmod $m failed"
done
ip link set lo up
# A NoCloud seed CD-ROM, read at boot (and again whenever a test types virtql-seed on the console).
virtql-seed
# The power button (evdev KEY_POWER, or /proc/acpi/event) runs /etc/acpi/PWRF/00000080.
acpid -c /etc/acpi -l /var/log/acpid.log
echo "${GUEST_READY_MARKER} kernel=$(uname -r) memory=$(sed -n 's/^MemTotal: *//p' /proc/meminfo)"
# A shell on the serial console, for the console tests; respawned if it exits.
while :; do setsid sh -c 'exec sh -i </dev/ttyS0 >/dev/ttyS0 2>&1'; sleep 1; done
`;

/**
 * Reads a NoCloud seed (an ISO 9660 CD-ROM labelled cidata) as cloud-init reads it and prints its
 * label and user-data on the console. AHCI finds its disks asynchronously: it waits a little for
 * sr0 when an AHCI controller is there.
 */
const SEED_SCRIPT = `#!/bin/sh
if ls /sys/bus/pci/drivers/ahci/0000:* >/dev/null 2>&1; then
  for i in $(seq 30); do [ -b /dev/sr0 ] && break; sleep 0.1; done
fi
for dev in /dev/sr0 /dev/sr1; do
  [ -b "$dev" ] || continue
  mkdir -p /mnt/seed
  if mount -t iso9660 -o ro "$dev" /mnt/seed; then
    # The ISO 9660 volume label: 32 bytes at offset 40 of the primary volume descriptor (sector 16).
    echo "${SEED_MARKER}-LABEL $dev LABEL=$(dd if="$dev" bs=1 skip=32808 count=32 2>/dev/null | tr -d ' ')"
    [ -f /mnt/seed/user-data ] && { echo "${SEED_MARKER}-BEGIN"; cat /mnt/seed/user-data; echo "${SEED_MARKER}-END"; }
    umount /mnt/seed
  fi
done
`;

const POWER_BUTTON_SCRIPT = `#!/bin/sh
echo "${GUEST_POWEROFF_MARKER}" > /dev/console
poweroff -f
`;

interface KernelDirMeta {
  format: number;
  kernelVersion: string;
  kernelDeb: string;
  busyboxDeb: string;
  /** `vmlinux` (the ELF, booted through PVH) or `vmlinuz` (the bzImage). */
  kernelFile: string;
  wanted: string[];
  /** Module names in load order. */
  modules: string[];
}

interface CommandOptions {
  cwd?: string;
  timeoutMs?: number;
}

async function run(file: string, args: readonly string[], options: CommandOptions = {}): Promise<string> {
  try {
    const { stdout } = await execFileAsync(file, args, {
      encoding: 'utf8',
      cwd: options.cwd,
      timeout: options.timeoutMs ?? 300_000,
      maxBuffer: 64 * 1024 * 1024,
      env: { ...process.env, LC_ALL: 'C', DEBIAN_FRONTEND: 'noninteractive' },
    });
    return stdout;
  } catch (error) {
    const failure = error as { code?: unknown; signal?: unknown; stderr?: string; message: string };
    const detail = (failure.stderr?.trim() || failure.message).split('\n').slice(-5).join(' | ');
    throw new Error(`\`${[file, ...args].join(' ')}\` failed (${String(failure.code ?? failure.signal)}): ${detail}`, {
      cause: error,
    });
  }
}

async function runBuffer(file: string, args: readonly string[]): Promise<Buffer> {
  const { stdout } = await execFileAsync(file, args, { encoding: 'buffer', maxBuffer: 256 * 1024 * 1024 });
  return stdout;
}

function onPath(program: string): boolean {
  return (process.env.PATH ?? '/usr/sbin:/usr/bin:/sbin:/bin')
    .split(delimiter)
    .some((dir) => dir !== '' && existsSync(join(dir, program)));
}

const isRoot = (): boolean => process.getuid?.() === 0;

/** The kernel package that linux-image-amd64 depends on, e.g. linux-image-6.1.0-56-amd64. */
async function kernelPackage(): Promise<string | undefined> {
  // apt-cache takes most of a second without a pkgcache.bin (Docker images drop it): remember
  // its answer until the package lists change.
  const memo = join(CACHE_ROOT, 'resolved.json');
  let listsStamp: number | undefined;
  try {
    listsStamp = (await stat(APT_LISTS)).mtimeMs;
    const saved = JSON.parse(await readFile(memo, 'utf8')) as { listsStamp: number; pkg: string };
    if (saved.listsStamp === listsStamp && typeof saved.pkg === 'string') return saved.pkg;
  } catch {
    // No memo yet, or no package lists.
  }
  const pkg = await askAptCache();
  if (pkg !== undefined && listsStamp !== undefined) {
    try {
      await mkdir(CACHE_ROOT, { recursive: true });
      const temp = `${memo}.${process.pid}.tmp`;
      await writeFile(temp, JSON.stringify({ listsStamp, pkg }));
      await rename(temp, memo);
    } catch {
      // Only a cache.
    }
  }
  return pkg;
}

async function askAptCache(): Promise<string | undefined> {
  let out: string;
  try {
    out = await run('apt-cache', ['depends', '--no-recommends', '--no-suggests', KERNEL_META_PACKAGE], {
      timeoutMs: 30_000,
    });
  } catch {
    return undefined;
  }
  return /^\s*\|?Depends:\s*(linux-image-\d\S*)\s*$/m.exec(out)?.[1];
}

function kernelDirOf(kernelVersion: string): string {
  return join(CACHE_ROOT, kernelVersion);
}

async function readMeta(dir: string): Promise<KernelDirMeta | undefined> {
  try {
    const meta = JSON.parse(await readFile(join(dir, 'kernel.json'), 'utf8')) as KernelDirMeta;
    const fresh = meta.format === KERNEL_DIR_FORMAT && meta.wanted.join(',') === WANTED_MODULES.join(',');
    return fresh ? meta : undefined;
  } catch {
    return undefined;
  }
}

/** The newest complete kernel directory in the cache, for when apt cannot tell which kernel is current. */
async function newestCachedKernel(): Promise<KernelDirMeta | undefined> {
  let names: string[];
  try {
    names = await readdir(CACHE_ROOT);
  } catch {
    return undefined;
  }
  const metas: KernelDirMeta[] = [];
  for (const name of names.filter((n) => !n.startsWith('.'))) {
    const meta = await readMeta(join(CACHE_ROOT, name));
    if (meta) metas.push(meta);
  }
  metas.sort((a, b) => a.kernelVersion.localeCompare(b.kernelVersion, 'en', { numeric: true }));
  return metas.at(-1);
}

/** Removes build directories that a crashed run left behind. */
async function removeStaleBuilds(): Promise<void> {
  for (const name of await readdir(CACHE_ROOT)) {
    if (!name.startsWith('.build-') && !name.startsWith('.old-')) continue;
    const path = join(CACHE_ROOT, name);
    try {
      if (Date.now() - (await stat(path)).mtimeMs > STALE_BUILD_MS) await rm(path, { recursive: true, force: true });
    } catch {
      // Another run removed it first.
    }
  }
}

/** `apt-get download` into `dir`; returns the .deb's path. */
async function download(pkg: string, dir: string): Promise<string> {
  // As root, apt drops to _apt to download, which cannot write to our 0700 temp dir.
  const sandbox = isRoot() ? ['-o', 'APT::Sandbox::User=root'] : [];
  await run('apt-get', ['download', '-q', ...sandbox, pkg], { cwd: dir, timeoutMs: 600_000 });
  const deb = (await readdir(dir)).find((f) => f.startsWith(`${pkg}_`) && f.endsWith('.deb'));
  if (deb === undefined) throw new Error(`apt-get download ${pkg} left no .deb in ${dir}`);
  return join(dir, deb);
}

const moduleName = (file: string): string =>
  basename(file)
    .replace(/\.ko(\.(xz|zst|gz))?$/, '')
    .replace(/-/g, '_');

/** A module's bytes, decompressed (Debian 12 ships plain .ko; later releases .ko.xz). */
async function readModule(path: string): Promise<Buffer> {
  if (path.endsWith('.ko')) return readFile(path);
  if (path.endsWith('.ko.xz')) return runBuffer('xz', ['-dc', path]);
  if (path.endsWith('.ko.zst')) return runBuffer('zstd', ['-dc', path]);
  if (path.endsWith('.ko.gz')) return runBuffer('gzip', ['-dc', path]);
  throw new Error(`unknown module format: ${path}`);
}

/** The `depends=` field of a module's .modinfo section. */
function moduleDepends(ko: Buffer): string[] {
  const key = Buffer.from('depends=');
  for (let i = ko.indexOf(key); i >= 0; i = ko.indexOf(key, i + 1)) {
    if (i > 0 && ko[i - 1] !== 0) continue;
    const end = ko.indexOf(0, i);
    const value = ko.subarray(i + key.length, end < 0 ? undefined : end).toString('utf8');
    return value
      .split(',')
      .filter((d) => d !== '')
      .map((d) => d.replace(/-/g, '_'));
  }
  return [];
}

/**
 * Copies the wanted modules and everything they depend on into `outDir` as <name>.ko, and
 * returns their names in load order (dependencies first). Built-in ones are left out.
 */
async function collectModules(moduleRoot: string, outDir: string): Promise<string[]> {
  const order = (await readFile(join(moduleRoot, 'modules.order'), 'utf8')).split('\n').filter((l) => l !== '');
  const builtin = new Set(
    (await readFile(join(moduleRoot, 'modules.builtin'), 'utf8'))
      .split('\n')
      .filter((l) => l !== '')
      .map(moduleName),
  );
  // modules.order names .ko; the package may hold them compressed.
  const files = new Map<string, string>();
  for (const rel of order) {
    const base = join(moduleRoot, rel.replace(/\.ko(\.(xz|zst|gz))?$/, ''));
    for (const ext of ['.ko', '.ko.xz', '.ko.zst', '.ko.gz']) {
      if (existsSync(base + ext)) {
        files.set(moduleName(rel), base + ext);
        break;
      }
    }
  }
  const loadOrder: string[] = [];
  const visiting = new Set<string>();
  const visit = async (name: string, wantedBy: string): Promise<void> => {
    if (builtin.has(name) || loadOrder.includes(name)) return;
    if (visiting.has(name)) throw new Error(`module dependency cycle at ${name}`);
    const file = files.get(name);
    if (file === undefined) throw new Error(`module ${name} (for ${wantedBy}) is neither built in nor in the package`);
    visiting.add(name);
    const ko = await readModule(file);
    for (const dep of moduleDepends(ko)) await visit(dep, name);
    visiting.delete(name);
    await writeFile(join(outDir, `${name}.ko`), ko);
    loadOrder.push(name);
  };
  for (const name of WANTED_MODULES) await visit(name, 'the guest');
  return loadOrder;
}

/**
 * The uncompressed ELF kernel inside a bzImage whose payload is xz (Debian 12), or undefined.
 * QEMU boots such an ELF through its PVH entry point, which spares TCG the in-guest
 * decompression of the bzImage: 2-5 s of a ~4-8 s boot on these machines.
 */
async function extractVmlinux(bzImage: string, work: string): Promise<Buffer | undefined> {
  const image = await readFile(bzImage);
  const start = image.indexOf(Buffer.from([0xfd, 0x37, 0x7a, 0x58, 0x5a, 0x00]));
  if (start < 0 || !onPath('xz')) return undefined;
  const payload = join(work, 'vmlinux.xz');
  await writeFile(payload, image.subarray(start));
  let elf: Buffer;
  try {
    elf = await runBuffer('xz', ['-dc', '--single-stream', payload]);
  } catch {
    return undefined;
  }
  const isElf64 = elf.subarray(0, 5).equals(Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x02]));
  return isElf64 ? elf : undefined;
}

/** Downloads and unpacks the kernel and busybox into a complete kernel directory at `dir`. */
async function populateKernelDir(kernelPkg: string, kernelVersion: string, work: string, dir: string): Promise<void> {
  const kernelDeb = await download(kernelPkg, work);
  const busyboxDeb = await download(BUSYBOX_PACKAGE, work);
  const kernelRoot = join(work, 'kernel');
  const busyboxRoot = join(work, 'busybox');
  await run('dpkg-deb', ['-x', kernelDeb, kernelRoot]);
  await run('dpkg-deb', ['-x', busyboxDeb, busyboxRoot]);
  await mkdir(join(dir, 'modules'), { recursive: true });
  const vmlinuz = join(kernelRoot, 'boot', `vmlinuz-${kernelVersion}`);
  await access(vmlinuz, constants.R_OK).catch(() => {
    throw new Error(`${basename(kernelDeb)} holds no boot/vmlinuz-${kernelVersion}`);
  });
  await copyFile(vmlinuz, join(dir, 'vmlinuz'));
  await copyFile(join(kernelRoot, 'boot', `config-${kernelVersion}`), join(dir, 'config'));
  const config = await readFile(join(dir, 'config'), 'utf8');
  const elf = /^CONFIG_PVH=y$/m.test(config) ? await extractVmlinux(join(dir, 'vmlinuz'), work) : undefined;
  if (elf !== undefined) await writeFile(join(dir, 'vmlinux'), elf);
  await copyFile(join(busyboxRoot, 'bin', 'busybox'), join(dir, 'busybox'));
  const modules = await collectModules(join(kernelRoot, 'lib', 'modules', kernelVersion), join(dir, 'modules'));
  const meta: KernelDirMeta = {
    format: KERNEL_DIR_FORMAT,
    kernelVersion,
    kernelDeb: basename(kernelDeb),
    busyboxDeb: basename(busyboxDeb),
    kernelFile: elf === undefined ? 'vmlinuz' : 'vmlinux',
    wanted: WANTED_MODULES,
    modules,
  };
  await writeFile(join(dir, 'kernel.json'), `${JSON.stringify(meta, null, 2)}\n`);
}

/** Renames a finished kernel directory to `final`, unless another run already put a current one there. */
async function moveIntoPlace(staged: string, final: string): Promise<void> {
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      await rename(staged, final);
      return;
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code !== 'ENOTEMPTY' && code !== 'EEXIST') throw error;
    }
    if (await readMeta(final)) return;
    // An outdated directory (an older format): move it aside and delete it.
    const old = join(CACHE_ROOT, `.old-${basename(final)}-${process.pid}-${attempt}`);
    await rename(final, old).catch(() => undefined);
    await rm(old, { recursive: true, force: true });
  }
  throw new Error(`could not move the new kernel directory to ${final}`);
}

/**
 * Runs `build` while holding <cache>/.lock-<kernelVersion>, so that test files starting
 * together download the kernel once. A lock whose owner died is taken over; one that is held
 * too long is ignored (the atomic rename keeps concurrent builds safe anyway).
 */
async function withBuildLock<T>(kernelVersion: string, build: () => Promise<T>): Promise<T> {
  const lock = join(CACHE_ROOT, `.lock-${kernelVersion}`);
  const deadline = Date.now() + LOCK_WAIT_MS;
  let held = false;
  while (!held && Date.now() < deadline) {
    try {
      await writeFile(lock, String(process.pid), { flag: 'wx' });
      held = true;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
      const owner = Number.parseInt(await readFile(lock, 'utf8').catch(() => ''), 10);
      const age = Date.now() - ((await stat(lock).catch(() => undefined))?.mtimeMs ?? Date.now());
      const abandoned = Number.isSafeInteger(owner) && owner > 0 ? await isProcessGone(owner) : age > 5_000;
      if (abandoned) await rm(lock, { force: true });
      else await delay(250);
    }
  }
  try {
    return await build();
  } finally {
    if (held) await rm(lock, { force: true });
  }
}

/** Builds <cache>/<kernelVersion>/ in a temp dir and renames it into place, unless another run just did. */
async function buildKernelDir(kernelPkg: string): Promise<KernelDirMeta> {
  const kernelVersion = kernelPkg.replace(/^linux-image-/, '');
  const final = kernelDirOf(kernelVersion);
  await mkdir(CACHE_ROOT, { recursive: true });
  return withBuildLock(kernelVersion, async () => (await readMeta(final)) ?? (await buildKernelDirNow(kernelVersion)));
}

async function buildKernelDirNow(kernelVersion: string): Promise<KernelDirMeta> {
  const kernelPkg = `linux-image-${kernelVersion}`;
  const final = kernelDirOf(kernelVersion);
  await removeStaleBuilds();
  const work = await mkdtemp(join(CACHE_ROOT, `.build-${kernelVersion}-`));
  try {
    const staged = join(work, 'image');
    await populateKernelDir(kernelPkg, kernelVersion, work, staged);
    await moveIntoPlace(staged, final);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
  const meta = await readMeta(final);
  if (!meta) throw new Error(`${final} is incomplete after the build`);
  return meta;
}

function recipeHash(meta: KernelDirMeta): string {
  return createHash('sha256')
    .update(JSON.stringify({ INIT_SCRIPT, POWER_BUTTON_SCRIPT, SEED_SCRIPT, meta }))
    .digest('hex')
    .slice(0, 16);
}

async function buildInitrd(dir: string, meta: KernelDirMeta): Promise<Buffer> {
  const entries: CpioEntry[] = [];
  for (const d of ['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'dev', 'proc', 'sys', 'tmp', 'root', 'run']) {
    entries.push({ type: 'dir', path: d });
  }
  entries.push(
    { type: 'char', path: 'dev/console', major: 5, minor: 1 },
    { type: 'dir', path: 'var' },
    { type: 'dir', path: 'var/log' },
    { type: 'dir', path: 'etc' },
    { type: 'dir', path: 'etc/acpi' },
    { type: 'dir', path: 'etc/acpi/PWRF' },
    { type: 'file', path: 'etc/acpi/PWRF/00000080', data: POWER_BUTTON_SCRIPT, mode: 0o755 },
    { type: 'file', path: 'bin/virtql-seed', data: SEED_SCRIPT, mode: 0o755 },
    { type: 'file', path: 'etc/virtql-modules', data: `${meta.modules.join('\n')}\n` },
    { type: 'file', path: 'bin/busybox', data: await readFile(join(dir, 'busybox')), mode: 0o755 },
    { type: 'symlink', path: 'bin/sh', target: 'busybox' },
    { type: 'file', path: 'init', data: INIT_SCRIPT, mode: 0o755 },
    { type: 'dir', path: 'lib' },
    { type: 'dir', path: 'lib/modules' },
  );
  for (const m of meta.modules) {
    entries.push({ type: 'file', path: `lib/modules/${m}.ko`, data: await readFile(join(dir, 'modules', `${m}.ko`)) });
  }
  return gzipSync(cpioNewc(entries), { level: 6 });
}

/** <dir>/initrd-<hash>.img, written to a temp file and renamed. */
async function ensureInitrd(dir: string, meta: KernelDirMeta): Promise<string> {
  const initrd = join(dir, `initrd-${recipeHash(meta)}.img`);
  if (existsSync(initrd)) return initrd;
  const temp = join(dir, `.initrd-${process.pid}-${Date.now()}.tmp`);
  try {
    await writeFile(temp, await buildInitrd(dir, meta));
    await rename(temp, initrd);
  } finally {
    await rm(temp, { force: true });
  }
  return initrd;
}

async function cachedOrBuilt(): Promise<KernelDirMeta> {
  const pkg = await kernelPackage();
  if (pkg !== undefined) {
    const cached = await readMeta(kernelDirOf(pkg.replace(/^linux-image-/, '')));
    if (cached) return cached;
  } else {
    // apt knows no kernel (no package lists, or not Debian): any complete cached kernel will do.
    const cached = await newestCachedKernel();
    if (cached) return cached;
  }
  for (const tool of ['apt-get', 'apt-cache', 'dpkg-deb']) {
    if (!onPath(tool)) throw new Error(`${tool} is missing: the guest image is built from Debian packages`);
  }
  let firstError: unknown;
  if (pkg !== undefined) {
    try {
      return await buildKernelDir(pkg);
    } catch (error) {
      firstError = error;
    }
  }
  // The package lists may be missing or stale (the mirror dropped that version): refresh once.
  if (!isRoot()) {
    const why = firstError === undefined ? `apt-cache knows no ${KERNEL_META_PACKAGE}` : (firstError as Error).message;
    throw new Error(`${why}; not root, so apt-get update could not refresh the package lists`, { cause: firstError });
  }
  try {
    await run('apt-get', ['update', '-qq'], { timeoutMs: 300_000 });
  } catch (error) {
    throw new Error(`no Debian mirror answers: ${(error as Error).message}`, { cause: firstError ?? error });
  }
  const refreshed = await kernelPackage();
  if (refreshed === undefined) throw new Error(`apt-cache knows no ${KERNEL_META_PACKAGE} even after apt-get update`);
  const cached = await readMeta(kernelDirOf(refreshed.replace(/^linux-image-/, '')));
  return cached ?? (await buildKernelDir(refreshed));
}

let building: Promise<GuestImage> | undefined;

/**
 * The guest image, built on first use and cached across runs: a warm call reads two small
 * files (apt-cache runs again only after `apt-get update`), and later calls in the same
 * process share the first one's promise.
 */
export function buildGuestImage(): Promise<GuestImage> {
  building ??= (async () => {
    const meta = await cachedOrBuilt();
    const dir = kernelDirOf(meta.kernelVersion);
    const initrd = await ensureInitrd(dir, meta);
    return { kernel: join(dir, meta.kernelFile), initrd, kernelVersion: meta.kernelVersion, cmdline: CMDLINE };
  })().catch((error: unknown) => {
    building = undefined;
    throw error;
  });
  return building;
}

/**
 * Why the guest cannot run here, as a sentence, or undefined when it can. Builds the image
 * (cached) to find out, since only a download proves that the mirror answers.
 */
export async function guestImageUnavailableReason(): Promise<string | undefined> {
  if (process.platform !== 'linux' || process.arch !== 'x64') {
    return `the guest is an x86-64 Debian kernel and this is ${process.platform}/${process.arch}`;
  }
  if (!onPath('qemu-system-x86_64')) return 'qemu-system-x86_64 is not installed (Debian package qemu-system-x86)';
  try {
    await buildGuestImage();
    return undefined;
  } catch (error) {
    return `the guest image cannot be built: ${(error as Error).message}`;
  }
}

/** Where guestDomainXml logs the serial console unless told otherwise. */
export function guestConsoleLogPath(name: string): string {
  return join(tmpdir(), `virtql-guest-${name}.console.log`);
}

function xmlText(value: string): string {
  return value.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/'/g, '&apos;');
}

/**
 * A TCG (type='qemu') pc domain booting the image directly, with ACPI, a virtio balloon, the
 * serial console written to `consoleLog` (truncated at each start, kept across reboots) and no
 * graphics. With `network`, a virtio NIC on that libvirt network.
 */
export function guestDomainXml(opts: {
  name: string;
  image: GuestImage;
  memoryMiB?: number;
  vcpus?: number;
  network?: string;
  /** @default guestConsoleLogPath(name) */
  consoleLog?: string;
  /** `pty`: the serial console is an interactive pty (virDomainOpenConsole) and no log is written. @default 'file' */
  serial?: 'file' | 'pty';
  /**
   * `true`: a VNC display without a listening socket (clients come through virDomainOpenGraphicsFD).
   * An object: a display on TCP `port` at `listen`, with VNC password authentication (an expired
   * password: nobody gets in until a one-time password is set). @default false
   */
  vnc?: boolean | { port: number; listen: string };
  /** Raw files as virtio disks (the guest names them vda, vdb… in this order). @default [] */
  disks?: Array<{ path: string; target: string }>;
}): string {
  const memory = opts.memoryMiB ?? 128;
  const log = opts.consoleLog ?? guestConsoleLogPath(opts.name);
  const nic =
    opts.network === undefined
      ? ''
      : `
    <interface type='network'>
      <source network='${xmlText(opts.network)}'/>
      <model type='virtio'/>
    </interface>`;
  const serial =
    opts.serial === 'pty'
      ? `<serial type='pty'>
      <target port='0'/>
    </serial>`
      : `<serial type='file'>
      <source path='${xmlText(log)}' append='off'/>
      <target port='0'/>
    </serial>`;
  const disks = (opts.disks ?? [])
    .map(
      (d) => `
    <disk type='file' device='disk'>
      <driver name='qemu' type='raw' cache='none'/>
      <source file='${xmlText(d.path)}'/>
      <target dev='${xmlText(d.target)}' bus='virtio'/>
    </disk>`,
    )
    .join('');
  const vnc = opts.vnc;
  const display =
    typeof vnc === 'object'
      ? `<graphics type='vnc' port='${vnc.port}' autoport='no' passwd='${randomBytes(4).toString('hex')}' passwdValidTo='1970-01-01T00:00:01'>
      <listen type='address' address='${xmlText(vnc.listen)}'/>
    </graphics>`
      : `<graphics type='vnc'>
      <listen type='none'/>
    </graphics>`;
  const graphics = vnc
    ? `
    ${display}
    <video>
      <model type='vga' vram='16384' heads='1'/>
    </video>`
    : '';
  return `<domain type='qemu'>
  <name>${xmlText(opts.name)}</name>
  <memory unit='MiB'>${memory}</memory>
  <currentMemory unit='MiB'>${memory}</currentMemory>
  <vcpu>${opts.vcpus ?? 1}</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>${xmlText(opts.image.kernel)}</kernel>
    <initrd>${xmlText(opts.image.initrd)}</initrd>
    <cmdline>${xmlText(opts.image.cmdline)}</cmdline>
  </os>
  <features>
    <acpi/>
    <apic/>
  </features>
  <clock offset='utc'/>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>restart</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    ${serial}
    <memballoon model='virtio'/>${disks}${nic}${graphics}
  </devices>
</domain>`;
}

/** How often `marker` occurs in `text`. */
export function countMarker(text: string, marker = GUEST_READY_MARKER): number {
  return text.split(marker).length - 1;
}

/**
 * Polls the console log until `marker` has appeared `count` times, and returns the log; on
 * timeout, rejects with the log's tail.
 */
export async function waitForConsole(
  path: string,
  options: { marker?: string; count?: number; timeoutMs?: number; intervalMs?: number } = {},
): Promise<string> {
  const marker = options.marker ?? GUEST_READY_MARKER;
  const count = options.count ?? 1;
  const deadline = Date.now() + (options.timeoutMs ?? 60_000);
  let text = '';
  for (;;) {
    try {
      text = await readFile(path, 'utf8');
    } catch {
      text = '';
    }
    if (countMarker(text, marker) >= count) return text;
    if (Date.now() >= deadline) {
      const tail = text.trimEnd().split('\n').slice(-25).join('\n');
      throw new Error(
        `${marker} did not appear ${count}× in ${path} within ${options.timeoutMs ?? 60_000} ms:\n${tail}`,
      );
    }
    await delay(options.intervalMs ?? 100);
  }
}
