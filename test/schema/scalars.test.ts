import { readFile } from 'node:fs/promises';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import { schema } from '../../src/schema/index.ts';
import { unspecifiedScalars } from '../support/schema-gates.ts';

describe('@specifiedBy', () => {
  it('every custom scalar names its specification by an https URL, in the printed SDL too', async () => {
    expect(unspecifiedScalars(schema)).toEqual([]);
    const sdl = await readFile(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(unspecifiedScalars(buildSchema(sdl))).toEqual([]);
    expect(sdl).toMatch(
      /^scalar DateTime @specifiedBy\(url: "https:\/\/scalars\.graphql\.org\/andimarek\/date-time"\)$/m,
    );
  });

  it('the gate reports scalars without a URL or with a plain-HTTP one', async () => {
    const bad = buildSchema(await readFile(new URL('fixtures/unspecified-scalars.graphql', import.meta.url), 'utf8'));
    expect(unspecifiedScalars(bad)).toEqual(['Bytes', 'When']);
  });
});
