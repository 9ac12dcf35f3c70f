import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { DEFAULT_SCHEMA_DIR, renderTable, TABLE_FILE } from '../../scripts/gen-schema-places.ts';
import { native } from '../../src/libvirt/native.ts';
import { SCHEMA_PATH_PLACES } from '../../src/libvirt/xml/schema-places.ts';

const missing = existsSync(join(DEFAULT_SCHEMA_DIR, 'domain.rng'))
  ? undefined
  : `libvirt's schemas are not installed at ${DEFAULT_SCHEMA_DIR} (package libvirt0)`;
if (missing) console.warn(`skipping the schema table checks: ${missing}`);

describe.skipIf(missing !== undefined)('the host-path table derived from libvirt’s schemas', () => {
  it('matches what scripts/gen-schema-places.ts derives from the installed schemas', () => {
    expect(renderTable(DEFAULT_SCHEMA_DIR)).toBe(readFileSync(TABLE_FILE, 'utf8'));
  });

  it('finds the places a hand-written list missed: render nodes, reservation sockets, audio, partitions', () => {
    const rows = (SCHEMA_PATH_PLACES.domain ?? []).map((r) => r.join(' '));
    for (const row of [
      'graphics gl rendernode absFilePath',
      'reservations source path absFilePath',
      'devices audio path filePath',
      'resource partition #text absFilePath',
    ]) {
      expect(rows).toContain(row);
    }
    expect((SCHEMA_PATH_PLACES.volume ?? []).map((r) => r.join(' '))).toContain('backingStore path #text absFilePath');
  });

  it('libvirt’s schema refuses a repeated singleton and an unknown element, naming a line', async () => {
    const domain = (extra: string) =>
      `<domain type="kvm">\n<name>a</name>\n<memory>1024</memory>\n<os><type>hvm</type></os>\n<devices/>${extra}\n</domain>`;
    const [ok, twice, unknown] = await native.xmlValidateRelaxNG(join(DEFAULT_SCHEMA_DIR, 'domain.rng'), [
      domain(''),
      domain('\n<devices><disk type="file"><source file="/etc/shadow"/><target dev="vda"/></disk></devices>'),
      domain('\n<dataStore/>'),
    ]);
    expect(ok).toBeNull();
    expect(twice).toMatch(/^line [1-9]\d*: .*devices/);
    expect(unknown).toMatch(/^line [1-9]\d*: .*dataStore/);
  });
});
