import { spawn } from 'node:child_process';
import { mkdir, readdir, readFile, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { generate } from '@graphql-codegen/cli';
import { CriticalityLevel, diff } from '@graphql-inspector/core';
import {
  type GraphQLSchema,
  getNamedType,
  isEnumType,
  isInputObjectType,
  isInterfaceType,
  isObjectType,
  isScalarType,
  isSpecifiedDirective,
  isSpecifiedScalarType,
} from 'graphql';

// The schema quality gates of issue 14 as functions over any schema, so each test runs a gate on
// the real schema and on a deliberately bad fixture.

export const repoRoot = fileURLToPath(new URL('../..', import.meta.url));

/** A description says something beyond the default value Pothos or a TSDoc habit may leave. */
function isReal(description: string | null | undefined): boolean {
  const text = (description ?? '').replace(/@default\b.*$/gm, '').trim();
  return /\p{L}/u.test(text);
}

/**
 * Schema coordinates (`Type`, `Type.field`, `Type.field(arg:)`, `Enum.VALUE`, `@directive(arg:)`)
 * whose description is missing or says nothing but "@default …". Introspection types and the
 * built-in scalars and directives (described by the GraphQL spec) are left out.
 */
export function undocumented(schema: GraphQLSchema): string[] {
  const missing: string[] = [];
  const check = (coordinate: string, description: string | null | undefined) => {
    if (!isReal(description)) missing.push(coordinate);
  };
  for (const type of Object.values(schema.getTypeMap())) {
    if (type.name.startsWith('__') || (isScalarType(type) && isSpecifiedScalarType(type))) continue;
    check(type.name, type.description);
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        check(`${type.name}.${field.name}`, field.description);
        for (const arg of field.args) check(`${type.name}.${field.name}(${arg.name}:)`, arg.description);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields())) check(`${type.name}.${field.name}`, field.description);
    } else if (isEnumType(type)) {
      for (const value of type.getValues()) check(`${type.name}.${value.name}`, value.description);
    }
  }
  for (const directive of schema.getDirectives()) {
    if (isSpecifiedDirective(directive)) continue;
    check(`@${directive.name}`, directive.description);
    for (const arg of directive.args) check(`@${directive.name}(${arg.name}:)`, arg.description);
  }
  return missing;
}

/** Custom scalars without an https `@specifiedBy` URL. */
export function unspecifiedScalars(schema: GraphQLSchema): string[] {
  return Object.values(schema.getTypeMap())
    .filter((type) => isScalarType(type) && !isSpecifiedScalarType(type))
    .filter((type) => {
      const url = isScalarType(type) ? type.specifiedByURL : undefined;
      return !url || !URL.canParse(url) || new URL(url).protocol !== 'https:';
    })
    .map((type) => type.name);
}

/**
 * The scalar mapping the README recommends to graphql-codegen users: the scalars travel as JSON
 * strings, BigInt input also takes a JSON integer (up to 2^53), and SecretValue is input only.
 */
export const recommendedScalars = {
  BigInt: { input: 'string | number', output: 'string' },
  DateTime: { input: 'string', output: 'string' },
  SecretValue: { input: 'string', output: 'never' },
} as const;

/**
 * Runs graphql-codegen's client preset as a client project would: `schema` (an SDL file) and the
 * operations matched by `documents` give typed documents in `outDir/gql/`. Unknown scalars are
 * an error (strictScalars), not `any`.
 */
export async function generateClientTypes(options: { schema: string; documents: string; outDir: string }) {
  await generate(
    {
      cwd: repoRoot,
      schema: options.schema,
      documents: options.documents,
      silent: true,
      errorsOnly: true,
      generates: {
        [`${join(options.outDir, 'gql')}/`]: {
          preset: 'client',
          config: { scalars: recommendedScalars, strictScalars: true, useTypeImports: true },
        },
      },
    },
    true,
  );
}

/**
 * `tsc --noEmit` over a generated client directory plus `files` written beside it (code that uses
 * the generated types); resolves with tsc's exit code and output.
 */
export async function typecheck(outDir: string, files: Record<string, string>) {
  await mkdir(outDir, { recursive: true });
  await symlink(join(repoRoot, 'node_modules'), join(outDir, 'node_modules')).catch((e: NodeJS.ErrnoException) => {
    if (e.code !== 'EEXIST') throw e;
  });
  for (const [name, text] of Object.entries(files)) await writeFile(join(outDir, name), text);
  await writeFile(
    join(outDir, 'tsconfig.json'),
    JSON.stringify({
      compilerOptions: {
        target: 'ES2022',
        // As a web client built by a bundler (Vite, webpack) compiles them.
        module: 'ESNext',
        moduleResolution: 'Bundler',
        strict: true,
        noEmit: true,
        skipLibCheck: false,
        types: [],
      },
      include: ['**/*.ts'],
      exclude: ['node_modules'],
    }),
  );
  const tsc = join(repoRoot, 'node_modules', 'typescript', 'bin', 'tsc');
  return new Promise<{ code: number; output: string }>((resolve, reject) => {
    const child = spawn(process.execPath, [tsc, '-p', join(outDir, 'tsconfig.json')], { cwd: outDir });
    let output = '';
    child.stdout.on('data', (chunk) => {
      output += chunk;
    });
    child.stderr.on('data', (chunk) => {
      output += chunk;
    });
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? 1, output }));
  });
}

/** The text of the changelog's "Unreleased" section (empty when it has none). */
export function unreleasedSection(changelog: string): string {
  return releaseSection(changelog, 'Unreleased');
}

/** The text of the changelog's section of a release (`0.2.0`, or `Unreleased`); empty when it has none. */
export function releaseSection(changelog: string, version: string): string {
  const name = version.replaceAll('.', '\\.');
  const match = new RegExp(`^## \\[?${name}\\]?[^\\n]*\\n([\\s\\S]*?)(?=^## |(?![\\s\\S]))`, 'im').exec(changelog);
  return match?.[1] ?? '';
}

/**
 * The breaking changes from `released` to `current` that the changelog's Unreleased section does
 * not name. A change is named when its schema coordinate (`Domain.id`, `Host.domains.state`,
 * `DomainRef`), or the field or type it belongs to (two segments at least: `Host.domains`), appears
 * in backticks there.
 */
export async function undocumentedBreakingChanges(
  released: GraphQLSchema,
  current: GraphQLSchema,
  changelog: string,
  section = unreleasedSection(changelog),
) {
  // `Type.field(arg:)` names the argument as inspector's path does: Type.field.arg.
  const named = new Set(
    [...section.matchAll(/`([^`\s]+)`/g)].map((m) => (m[1] as string).replace(/\((\w+):?\)$/, '.$1')),
  );
  const changes = await diff(released, current);
  return changes
    .filter((change) => change.criticality.level === CriticalityLevel.Breaking)
    .filter((change) => {
      const segments = (change.path ?? '').split('.');
      const prefixes = segments.map((_s, i) => segments.slice(0, i + 1).join('.'));
      const covering = segments.length === 1 ? prefixes : prefixes.slice(1);
      return !covering.some((p) => named.has(p));
    })
    .map((change) => ({ path: change.path ?? '', message: change.message }));
}

/** Whether the schema element at an inspector path (`Type`, `Type.field`, `Type.field.arg`, `Enum.VALUE`) is deprecated. */
function deprecatedIn(schema: GraphQLSchema, path: string): boolean {
  const [typeName, member, argName] = path.split('.');
  const type = schema.getType(typeName ?? '');
  if (!type) return false;
  if (member === undefined) return typeRetired(schema, typeName as string);
  if (isEnumType(type)) return type.getValue(member)?.deprecationReason != null;
  if (isInputObjectType(type)) return type.getFields()[member]?.deprecationReason != null;
  if (isObjectType(type) || isInterfaceType(type)) {
    const field = type.getFields()[member];
    if (argName === undefined) return field?.deprecationReason != null;
    // A field deprecated as a whole takes its arguments with it.
    return field?.deprecationReason != null || field?.args.find((a) => a.name === argName)?.deprecationReason != null;
  }
  return false;
}

/** A type may go once every field, argument and input field of the schema using it was deprecated. */
function typeRetired(schema: GraphQLSchema, typeName: string): boolean {
  const uses: Array<string | null | undefined> = [];
  for (const type of Object.values(schema.getTypeMap())) {
    if (isObjectType(type) || isInterfaceType(type)) {
      for (const field of Object.values(type.getFields())) {
        if (getNamedType(field.type).name === typeName) uses.push(field.deprecationReason);
        for (const arg of field.args)
          if (getNamedType(arg.type).name === typeName) uses.push(field.deprecationReason ?? arg.deprecationReason);
      }
    } else if (isInputObjectType(type)) {
      for (const field of Object.values(type.getFields()))
        if (getNamedType(field.type).name === typeName) uses.push(field.deprecationReason);
    }
  }
  return uses.every((reason) => reason != null);
}

/**
 * The breaking changes from `released` to `current` that no `@deprecated` in `released` announced:
 * from 0.2.0 on, a field, argument, input field or enum value goes (or changes incompatibly) only
 * after a release marked it deprecated, and a type only once everything using it was.
 */
export async function breakingWithoutDeprecation(released: GraphQLSchema, current: GraphQLSchema) {
  const changes = await diff(released, current);
  return changes
    .filter((change) => change.criticality.level === CriticalityLevel.Breaking)
    .filter((change) => !deprecatedIn(released, change.path ?? ''))
    .map((change) => ({ path: change.path ?? '', message: change.message }));
}

/** The newest SDL in schema/released/ (vX.Y.Z.graphql, by version). */
export async function newestReleased(): Promise<{ version: string; sdl: string }> {
  const dir = join(repoRoot, 'schema', 'released');
  const versions = (await readdir(dir))
    .map((f) => /^v(\d+)\.(\d+)\.(\d+)\.graphql$/.exec(f))
    .filter((m): m is RegExpExecArray => m !== null)
    .sort((a, b) => Number(a[1]) - Number(b[1]) || Number(a[2]) - Number(b[2]) || Number(a[3]) - Number(b[3]));
  const newest = versions.at(-1);
  if (!newest) throw new Error(`no vX.Y.Z.graphql in ${dir}`);
  return { version: newest[0].slice(1, -'.graphql'.length), sdl: await readFile(join(dir, newest[0]), 'utf8') };
}
