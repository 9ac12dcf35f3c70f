import { readFile } from 'node:fs/promises';
import { buildSchema } from 'graphql';
import { describe, expect, it } from 'vitest';
import {
  breakingWithoutDeprecation,
  newestReleased,
  releaseSection,
  undocumentedBreakingChanges,
} from '../support/schema-gates.ts';

const read = (path: string) => readFile(new URL(path, import.meta.url), 'utf8');

describe('breaking changes against the last released SDL', () => {
  it('every breaking change since the newest schema/released/ file was deprecated there first, and is named in CHANGELOG.md', async () => {
    const { version, sdl } = await newestReleased();
    expect(version).toBe(JSON.parse(await read('../../package.json')).version);
    const released = buildSchema(sdl);
    const current = buildSchema(await read('../../schema/schema.graphql'));
    expect(await breakingWithoutDeprecation(released, current)).toEqual([]);
    expect(await undocumentedBreakingChanges(released, current, await read('../../CHANGELOG.md'))).toEqual([]);
  });

  it('the 0.2.0 section of CHANGELOG.md names every breaking change from v0.1.0 to v0.2.0 (its migration note)', async () => {
    const changelog = await read('../../CHANGELOG.md');
    const before = buildSchema(await read('../../schema/released/v0.1.0.graphql'));
    const after = buildSchema(await read('../../schema/released/v0.2.0.graphql'));
    const section = releaseSection(changelog, '0.2.0');
    expect(section).toContain('Migrating a client from 0.1');
    expect(await undocumentedBreakingChanges(before, after, changelog, section)).toEqual([]);
  });

  it('the deprecation gate lets go what a release deprecated, and refuses every other breaking change', async () => {
    const released = buildSchema(await read('fixtures/deprecation/released.graphql'));
    const current = buildSchema(await read('fixtures/deprecation/current.graphql'));
    const refused = await breakingWithoutDeprecation(released, current);
    // Gone after a deprecation: Query.domains(state:), Query.legacy and its type, Domain.id, Kind.OLD.
    // Refused: Domain.name changed type, Kind.OTHER removed without one.
    expect(refused.map((c) => c.path).sort()).toEqual(['Domain.name', 'Kind.OTHER']);
  });

  it('the changelog gate reports breaking changes the Unreleased section does not name, and only those', async () => {
    const released = buildSchema(await read('fixtures/breaking/released.graphql'));
    const current = buildSchema(await read('fixtures/breaking/current.graphql'));
    const silent = await undocumentedBreakingChanges(
      released,
      current,
      '# Changelog\n\n## Unreleased\n\n- `Query.hosts` added.\n',
    );
    expect(silent.map((c) => c.path).sort()).toEqual(['Domain.id', 'Query.domains.state']);

    // Named in an older release's section does not count.
    const old = await undocumentedBreakingChanges(
      released,
      current,
      '# Changelog\n\n## Unreleased\n\n## 0.1.0\n\n- `Domain.id` and `Query.domains` changed.\n',
    );
    expect(old).toHaveLength(2);

    const named = await undocumentedBreakingChanges(
      released,
      current,
      '# Changelog\n\n## Unreleased\n\n### Breaking\n- `Domain.id` is now `Domain.runtimeId`.\n- `Query.domains(state:)` is now `filter`.\n\n## 0.1.0\n',
    );
    expect(named).toEqual([]);
  });
});
