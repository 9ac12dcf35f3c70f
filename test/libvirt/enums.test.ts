import { existsSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { DEFAULT_API_XML, GENERATED_FILE, renderEnums } from '../../scripts/gen-libvirt-enums.ts';
import { virDomainEventID } from '../../src/libvirt/enums.generated.ts';
import { DomainEventID, DomainJobField, DomainSnapshotListFlags, DomainState } from '../../src/libvirt/enums.ts';

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

  it('name the members without their C prefix, in libvirt’s order, sentinels left out', () => {
    expect(Object.keys(DomainState)).toEqual([
      'NOSTATE',
      'RUNNING',
      'BLOCKED',
      'PAUSED',
      'SHUTDOWN',
      'SHUTOFF',
      'CRASHED',
      'PMSUSPENDED',
    ]);
    expect(DomainSnapshotListFlags.ROOTS).toBe(DomainSnapshotListFlags.DESCENDANTS);
    expect(DomainJobField.MEMORY_POSTCOPY_REQS).toBe('memory_postcopy_requests');
  });

  it('keep a subset by name over the generated numbers', () => {
    for (const [name, value] of Object.entries(DomainEventID)) {
      expect(virDomainEventID[`VIR_DOMAIN_EVENT_ID_${name}` as keyof typeof virDomainEventID]).toBe(value);
    }
    expect(DomainEventID).not.toHaveProperty('LIFECYCLE');
  });
});
