import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Connection, ConsoleStream, type StoragePool } from '../../src/libvirt/index.ts';
import { parseDomainXml } from '../../src/libvirt/xml/domain-xml.ts';
import { consoleCollector } from '../support/console-collector.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';
import { buildGuestImage, type GuestImage, guestImageUnavailableReason, SEED_MARKER } from '../support/guest-image.ts';
import {
  DIR_POOL,
  NAT_NETWORK,
  openPrivateDaemon,
  privateDaemon,
  privateDaemonSkipReason,
} from '../support/private-daemon.ts';

const skip = privateDaemonSkipReason() ?? (await guestImageUnavailableReason());
if (skip) console.warn(`skipping the cloud-image-to-VM case: ${skip}`);

const run = promisify(execFile);
const sha256 = (b: Buffer) => createHash('sha256').update(b).digest('hex');
const VM = 'prov-vm';
const VOLUMES = [
  'prov-base.qcow2',
  'prov-kernel',
  'prov-initrd',
  `${VM}-vda.qcow2`,
  `${VM}-cidata.iso`,
  'prov-undo.qcow2',
];

interface Op {
  id: string;
  status: string;
  errorMessage: string | null;
}

describe.skipIf(skip !== undefined)(
  'from a cloud image to a running VM on a private libvirtd',
  { timeout: 300_000 },
  () => {
    let gw: TestGateway;
    let c: Connection;
    let pool: StoragePool;
    let server: Server;
    let port: number;
    let image: GuestImage;
    let uri: string;
    const files = new Map<string, Buffer>();

    /** importVolume of one of the served files, waited for. */
    async function imported(name: string, file: string, format: string): Promise<string> {
      const data = files.get(file) as Buffer;
      const started = await gw.ok<{ importVolume: Op }>(
        `mutation ($url: String!, $sha: String!) { importVolume(input: { host: "qemu", pool: "${DIR_POOL}", name: "${name}", url: $url, format: "${format}", sha256: $sha }) { id status errorMessage } }`,
        { url: `http://127.0.0.1:${port}/images/${file}`, sha: sha256(data) },
      );
      for (;;) {
        const { operation } = await gw.ok<{ operation: Op }>(
          'query ($id: ID!) { operation(id: $id) { id status errorMessage } }',
          {
            id: started.importVolume.id,
          },
        );
        if (operation.status !== 'RUNNING') {
          expect(operation).toMatchObject({ status: 'COMPLETED' });
          break;
        }
        await new Promise((r) => setTimeout(r, 50));
      }
      return (await pool.volumeByName(name)).path;
    }

    async function cleanUp(): Promise<void> {
      const d = await c?.domainByName(VM).catch(() => undefined);
      if (d && (await d.isActive())) await d.destroy();
      await d?.undefine();
      for (const name of VOLUMES) await (await pool?.volumeByName(name).catch(() => undefined))?.delete();
    }

    beforeAll(async () => {
      const daemon = privateDaemon();
      if (!daemon) throw new Error('unreachable');
      uri = daemon.uri;
      image = await buildGuestImage();
      // The "cloud image": a small qcow2 holding a pattern the overlay must read through to.
      const base = join(tmpdir(), `virtql-base-${process.pid}.qcow2`);
      await run('qemu-img', ['create', '-q', '-f', 'qcow2', base, '32M']);
      await run('qemu-io', ['-f', 'qcow2', '-c', 'write -P 0x5a 0 1M', base]);
      files.set('base.qcow2', await readFile(base));
      await rm(base, { force: true });
      files.set('vmlinux', await readFile(image.kernel));
      files.set('initrd.img', await readFile(image.initrd));
      server = createServer((req, res) => {
        const data = files.get((req.url ?? '').replace('/images/', ''));
        if (!data) {
          res.writeHead(404);
          res.end();
          return;
        }
        res.writeHead(200, { 'content-length': String(data.length) });
        res.end(data);
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      port = (server.address() as AddressInfo).port;
      gw = await startGateway({ qemu: daemon.uri }, undefined, {
        config: { images: { allowedUrls: [`http://127.0.0.1:${port}/images/`] } },
      });
      c = await openPrivateDaemon();
      pool = await c.storagePoolByName(DIR_POOL);
      await cleanUp();
    }, 240_000);

    afterAll(async () => {
      await cleanUp();
      await gw?.close();
      await c?.close();
      await new Promise((resolve) => server?.close(resolve));
    });

    it('imports, defines with a linked clone, a NIC, VNC, a serial console and cloud-init, and boots it', async () => {
      const basePath = await imported('prov-base.qcow2', 'base.qcow2', 'qcow2');
      const kernel = await imported('prov-kernel', 'vmlinux', 'raw');
      const initrd = await imported('prov-initrd', 'initrd.img', 'raw');
      const userData = `#cloud-config\n# virtql seed ${randomBytes(6).toString('hex')}\n`;
      const domain = {
        name: VM,
        memoryKiB: '131072',
        machine: 'pc',
        disks: [{ linkedClone: { base: { path: basePath }, name: `${VM}-vda.qcow2` } }],
        interfaces: [{ kind: 'NETWORK', source: NAT_NETWORK, mac: '52:54:00:19:00:01' }],
        graphics: [{ type: 'VNC', listen: '127.0.0.1' }],
        serial: true,
        // TCG, as every tiny-guest test: this nested host's KVM stops such guests with an emulation failure.
        virtType: 'QEMU',
        kernel: { kernel: { path: kernel }, initrd: { path: initrd }, cmdline: image.cmdline },
        cloudInit: {
          userData,
          hostname: 'prov',
          sshAuthorizedKeys: ['ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAA test@virtql'],
        },
      };
      const defined = await gw.ok<{ defineDomain: { name: string; state: string } }>(
        'mutation ($d: DomainInput!) { defineDomain(input: { host: "qemu", domain: $d, start: true }) { name state } }',
        { d: domain },
      );
      expect(defined.defineDomain).toEqual({ name: VM, state: 'RUNNING' });

      // What the tiny guest's /init reads from the seed CD-ROM, on the serial console.
      const collected = consoleCollector();
      const stream = await ConsoleStream.open(await c.domainByName(VM), collected.listener, { force: true });
      try {
        await Promise.race([
          collected.until(`${SEED_MARKER}-END`),
          new Promise((_, reject) =>
            setTimeout(async () => {
              const log = await readFile(join(privateDaemon()?.root ?? '', 'log', 'qemu', `${VM}.log`), 'utf8').catch(
                (e: Error) => e.message,
              );
              const live = (await run('virsh', ['-c', uri, 'dumpxml', VM]).catch((e: Error) => ({ stdout: e.message })))
                .stdout;
              reject(
                new Error(`no seed on the console:\n${collected.text}\n--- qemu log:\n${log}\n--- live:\n${live}`),
              );
            }, 60_000),
          ),
        ]);
      } finally {
        await stream.close();
      }
      const text = collected.text.replaceAll('\r\n', '\n');
      expect(text).toMatch(new RegExp(`${SEED_MARKER}-LABEL /dev/sr0 LABEL=cidata\n`));
      const printed = text.slice(
        text.indexOf(`${SEED_MARKER}-BEGIN\n`) + `${SEED_MARKER}-BEGIN\n`.length,
        text.indexOf(`${SEED_MARKER}-END`),
      );
      expect(printed).toBe(userData);

      // libvirt's own view (virsh dumpxml) has what the input asked for.
      const xml = (await run('virsh', ['-c', uri, 'dumpxml', '--inactive', VM])).stdout;
      const parsed = parseDomainXml(xml);
      const overlay = (await pool.volumeByName(`${VM}-vda.qcow2`)).path;
      const seed = (await pool.volumeByName(`${VM}-cidata.iso`)).path;
      const disks = parsed.disks.map((d) => [
        d.target.dev,
        d.device,
        d.target.bus,
        d.sourcePath,
        d.driverType,
        d.readonly,
      ]);
      expect(disks.sort()).toEqual([
        ['sda', 'cdrom', 'sata', seed, 'raw', true],
        ['vda', 'disk', 'virtio', overlay, 'qcow2', false],
      ]);
      expect(parsed.interfaces).toMatchObject([
        { type: 'network', source: { network: NAT_NETWORK }, mac: '52:54:00:19:00:01', model: 'virtio' },
      ]);
      expect(parsed.graphics).toMatchObject([{ type: 'vnc', listen: '127.0.0.1', autoport: true }]);
      expect(xml).toMatch(/<serial type='pty'>/);
      expect(xml).toMatch(/<console type='pty'>/);
      expect(xml).toContain(`<kernel>${kernel}</kernel>`);
      expect(xml).toContain(`<initrd>${initrd}</initrd>`);
      expect(xml).toMatch(/<memory unit='KiB'>131072<\/memory>/);
      // The overlay reads through to the base, which stays as it was.
      const info = JSON.parse((await run('qemu-img', ['info', '-U', '--output=json', overlay])).stdout) as Record<
        string,
        unknown
      >;
      expect(info['backing-filename']).toBe(basePath);
      expect(sha256(await readFile(basePath))).toBe(sha256(files.get('base.qcow2') as Buffer));
    });

    it('updates the running domain with its digest, and refuses a stale one', async () => {
      const { domain } = await gw.ok<{ domain: { xml: string; configDigest: string } }>(
        `{ domain(host: "qemu", ref: { name: "${VM}" }) { xml(inactive: true) configDigest } }`,
      );
      const edited = domain.xml.replace('</name>', '</name>\n  <description>edited through virtql</description>');
      const res = await gw.ok<{ updateDomain: { pendingRestart: string[] } }>(
        'mutation ($x: String!, $d: String) { updateDomain(input: { host: "qemu", domain: { name: "prov-vm" }, xml: $x, expectedDigest: $d }) { pendingRestart } }',
        { x: edited, d: domain.configDigest },
      );
      expect(res.updateDomain.pendingRestart, JSON.stringify(res.updateDomain.pendingRestart)).toEqual(['description']);
      expect((await run('virsh', ['-c', uri, 'dumpxml', '--inactive', VM])).stdout).toContain('edited through virtql');
      const stale = await gw.query(
        'mutation ($x: String!, $d: String) { updateDomain(input: { host: "qemu", domain: { name: "prov-vm" }, xml: $x, expectedDigest: $d }) { pendingRestart } }',
        { x: domain.xml, d: domain.configDigest },
      );
      expect(stale.errors?.[0]?.extensions?.code).toBe('CONFLICT');
    });

    it('undoes the volumes it made when libvirt refuses the definition', async () => {
      const res = await gw.query(
        'mutation ($d: DomainInput!) { defineDomain(input: { host: "qemu", domain: $d }) { name } }',
        {
          d: {
            name: 'prov-undo',
            machine: 'no-such-machine',
            disks: [{ newVolume: { pool: DIR_POOL, name: 'prov-undo.qcow2', capacityBytes: '1048576' } }],
          },
        },
      );
      // libvirt refuses it (QEMU 7.2: "No PCI buses available" for a machine it does not know).
      expect(res.errors?.[0]?.extensions?.libvirt).toBeDefined();
      await pool.refresh();
      expect((await pool.volumes()).map((v) => v.name)).not.toContain('prov-undo.qcow2');
      expect(await c.domainByName('prov-undo').catch(() => undefined)).toBeUndefined();
    });

    it('refuses UEFI where the host has no UEFI firmware, naming the field, before making anything', async () => {
      const caps = (await run('virsh', ['-c', uri, 'domcapabilities', '--machine', 'pc'])).stdout;
      const hasEfi = /<value>efi<\/value>/.test(caps);
      const res = await gw.query(
        'mutation ($d: DomainInput!) { defineDomain(input: { host: "qemu", domain: $d }) { name } }',
        {
          d: { name: 'prov-uefi', machine: 'pc', firmware: { type: 'UEFI' } },
        },
      );
      if (hasEfi) {
        // This host has OVMF: the definition is accepted (and removed again).
        expect(res.errors).toBeUndefined();
        await (await c.domainByName('prov-uefi')).undefine({ nvram: true } as never).catch(() => undefined);
      } else {
        expect(res.errors?.[0]?.extensions).toMatchObject({ code: 'UNSUPPORTED', field: 'domain.firmware' });
        expect(res.errors?.[0]?.message).toMatch(/no UEFI firmware/);
      }
    });
  },
);
