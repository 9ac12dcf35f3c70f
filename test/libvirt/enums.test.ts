import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_API_XML, GENERATED_FILE, renderEnums } from '../../scripts/gen-libvirt-enums.ts';

const missing = existsSync(DEFAULT_API_XML)
  ? undefined
  : `libvirt's API description is not installed at ${DEFAULT_API_XML} (package libvirt-dev)`;
if (missing) console.warn(`skipping the generated enum check: ${missing}`);

describe('libvirt’s enums, generated from its API description', () => {
  it.skipIf(missing !== undefined)(
    'match what scripts/gen-libvirt-enums.ts writes from the installed libvirt-api.xml',
    () => {
      expect(renderEnums(DEFAULT_API_XML)).toBe(readFileSync(GENERATED_FILE, 'utf8'));
    },
  );
});
