import { readFile } from 'node:fs/promises';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import { undocumented } from '../support/schema-gates.ts';

describe('descriptions', () => {
  it('every type, field, argument, input field and enum value of the schema has a real description', () => {
    expect(undocumented(schema)).toEqual([]);
  });

  it('the gate reports what a bad schema leaves undescribed, or describes only with "@default …"', async () => {
    const bad = buildSchema(await readFile(new URL('fixtures/undocumented.graphql', import.meta.url), 'utf8'));
    expect(undocumented(bad).sort()).toEqual(
      ['Domain', 'Domain.autostart', 'Domain.state', 'Query.domains(state:)', 'Query.hostname', 'State.SHUTOFF'].sort(),
    );
  });
});
