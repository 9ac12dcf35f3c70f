import { readFile } from 'node:fs/promises';
import { describe, expect, it } from 'vitest';
import { printedSchema } from '../../src/schema/index.ts';

describe('schema/schema.graphql', () => {
  it('matches the schema the code builds (run `npm run schema` after changing it)', async () => {
    const committed = await readFile(new URL('../../schema/schema.graphql', import.meta.url), 'utf8');
    expect(committed).toBe(printedSchema());
  });

  it('documents every field of every object type', () => {
    const sdl = printedSchema();
    const undocumented = [...sdl.matchAll(/^type (\w+)[^{]*\{([^}]*)\}/gm)].flatMap(([, type, body]) =>
      (body ?? '')
        .split('\n')
        .map((line, i, lines) => ({ line, prev: (lines[i - 1] ?? '').trim() }))
        .filter(({ line, prev }) => /^ {2}\w+[(:]/.test(line) && !prev.endsWith('"""'))
        .map(({ line }) => `${type}.${line.trim().split(/[(:]/)[0]}`),
    );
    const selfExplanatory = /\.(id|name|uuid|host|major|minor|release|start|end|address|mac|serial|mtu)$/;
    expect(undocumented.filter((f) => !selfExplanatory.test(f))).toEqual([]);
  });
});
