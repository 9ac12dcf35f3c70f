import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { buildIso } from '../../src/cloud-init/iso9660.ts';
import { CloudInitError, nocloudSeedIso } from '../../src/cloud-init/nocloud-seed.ts';

const run = promisify(execFile);
const tools = ['/usr/bin/isoinfo', '/usr/bin/xorriso', '/usr/sbin/blkid'];
const missing = tools.filter((t) => !existsSync(t));
const skip =
  missing.length > 0 ? `${missing.join(', ')} not installed (packages genisoimage, xorriso, util-linux)` : undefined;
if (skip) console.warn(`skipping the ISO read-back checks: ${skip}`);

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'virtql-iso-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function written(image: Buffer, name: string): Promise<string> {
  const path = join(dir, name);
  await writeFile(path, image);
  return path;
}

/** A file of the image as xorriso (libisofs, another implementation than isoinfo's) extracts it. */
async function extracted(iso: string, name: string): Promise<string> {
  const out = join(dir, `${name}.out`);
  await rm(out, { force: true });
  await run('xorriso', ['-osirrox', 'on', '-indev', iso, '-extract', `/${name}`, out]);
  return readFile(out, 'utf8');
}

describe.skipIf(skip !== undefined)('the ISO 9660 writer, read back by isoinfo, xorriso and blkid', () => {
  it('writes a labelled volume whose Joliet names and contents come back as given', async () => {
    const files = [
      { name: 'user-data', data: Buffer.from('#cloud-config\nruncmd: [echo hi]\n') },
      { name: 'meta-data', data: Buffer.from('instance-id: i-1\n') },
      // Two sectors and a bit: extents must not overlap.
      { name: 'big.bin', data: Buffer.alloc(5000, 0x61) },
      { name: 'empty', data: Buffer.alloc(0) },
    ];
    const iso = await written(buildIso({ label: 'cidata', files }), 'plain.iso');
    const info = (await run('isoinfo', ['-d', '-i', iso])).stdout;
    expect(info).toMatch(/Volume id: cidata/);
    expect(info).toMatch(/Joliet with UCS level 3 found/);
    const listing = (await run('isoinfo', ['-J', '-f', '-i', iso])).stdout.split('\n').filter(Boolean).sort();
    expect(listing).toEqual(['/big.bin', '/empty', '/meta-data', '/user-data']);
    for (const f of files) expect(await extracted(iso, f.name)).toBe(f.data.toString());
    // The primary volume (what a reader without Joliet sees): ISO 9660 names, same data.
    const primary = (await run('isoinfo', ['-f', '-i', iso])).stdout;
    expect(primary).toContain('/USER_DATA.;1');
    expect((await run('isoinfo', ['-i', iso, '-x', '/USER_DATA.;1'])).stdout).toBe(files[0]?.data.toString());
    expect((await run('blkid', ['-o', 'export', iso])).stdout).toMatch(/LABEL=cidata[\s\S]*TYPE=iso9660/);
    // xorriso's own consistency check of the whole tree.
    const check = await run('xorriso', ['-indev', iso, '-check_media', '--']);
    expect(`${check.stdout}${check.stderr}`).not.toMatch(/FAILURE|SORRY/);
  });

  it('writes a NoCloud seed: user-data as given, meta-data with the keys added', async () => {
    const seed = nocloudSeedIso({
      userData: '#!/bin/sh\necho from user-data\n',
      metaData: 'availability-zone: lab\n',
      networkConfig: 'version: 2\nethernets: {}\n',
      hostname: 'web-1',
      sshAuthorizedKeys: ['ssh-ed25519 AAAAC3Nza test@virtql'],
      instanceId: 'uuid-1',
    });
    const iso = await written(seed, 'seed.iso');
    expect(await extracted(iso, 'user-data')).toBe('#!/bin/sh\necho from user-data\n');
    expect(parse(await extracted(iso, 'meta-data'))).toEqual({
      'availability-zone': 'lab',
      'instance-id': 'uuid-1',
      'local-hostname': 'web-1',
      'public-keys': ['ssh-ed25519 AAAAC3Nza test@virtql'],
    });
    expect(await extracted(iso, 'network-config')).toBe('version: 2\nethernets: {}\n');
  });
});

describe('NoCloud seed inputs', () => {
  it('keeps a meta-data instance-id the client gave, and writes an empty #cloud-config by default', () => {
    const iso = nocloudSeedIso({ metaData: 'instance-id: mine\n', instanceId: 'uuid-2' });
    const text = iso.toString('latin1');
    expect(text).toContain('instance-id: mine');
    expect(text).not.toContain('uuid-2');
    expect(text).toContain('#cloud-config\n');
    expect(text).not.toContain('network-config');
  });

  it('refuses meta-data that is not a YAML mapping, naming the field', () => {
    for (const metaData of ['- a list\n', 'key: [unclosed\n']) {
      let error: unknown;
      try {
        nocloudSeedIso({ metaData, instanceId: 'x' });
      } catch (e) {
        error = e;
      }
      expect(error).toBeInstanceOf(CloudInitError);
      expect((error as CloudInitError).field).toBe('metaData');
    }
  });
});
