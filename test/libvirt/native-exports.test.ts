import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const NATIVE_TS = fileURLToPath(new URL('../../src/libvirt/native.ts', import.meta.url));

/** The members of `interface Native` as written in native.ts, each marked as a function or a value. */
function declaredMembers(): Map<string, 'function' | 'value'> {
  const source = ts.createSourceFile(NATIVE_TS, readFileSync(NATIVE_TS, 'utf8'), ts.ScriptTarget.Latest, true);
  const declaration = source.statements.find(
    (s): s is ts.InterfaceDeclaration => ts.isInterfaceDeclaration(s) && s.name.text === 'Native',
  );
  if (declaration === undefined) throw new Error('native.ts declares no interface Native');
  // An inherited member would not be listed below: refuse rather than compare half the interface.
  expect(declaration.heritageClauses ?? []).toEqual([]);
  const members = new Map<string, 'function' | 'value'>();
  for (const member of declaration.members) {
    if (member.name === undefined || !ts.isIdentifier(member.name)) {
      throw new Error(`interface Native has a member the test cannot name: ${member.getText(source)}`);
    }
    const isFunction =
      ts.isMethodSignature(member) ||
      (ts.isPropertySignature(member) && member.type !== undefined && ts.isFunctionTypeNode(member.type));
    members.set(member.name.text, isFunction ? 'function' : 'value');
  }
  return members;
}

/** What the compiled addon exports, loaded directly rather than through native.ts's wrapper. */
function exportedMembers(): Map<string, 'function' | 'value'> {
  const addon: Record<string, unknown> = createRequire(import.meta.url)('../../build/Release/virtql_native.node');
  return new Map(Object.entries(addon).map(([name, v]) => [name, typeof v === 'function' ? 'function' : 'value']));
}

describe('the addon’s exports and the Native interface', () => {
  const declared = declaredMembers();
  const exported = exportedMembers();

  it('declare every export the addon has', () => {
    expect([...exported.keys()].filter((name) => !declared.has(name))).toEqual([]);
  });

  it('export every member the interface declares', () => {
    expect([...declared.keys()].filter((name) => !exported.has(name))).toEqual([]);
  });

  it('agree on which members are functions', () => {
    const differing = [...declared].filter(([name, kind]) => exported.has(name) && exported.get(name) !== kind);
    expect(differing).toEqual([]);
    expect(declared.size).toBeGreaterThan(100);
  });
});
