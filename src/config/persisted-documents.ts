import { createHash } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { parse } from 'graphql';
import type { ConfigProblem } from './config-error.ts';

/** The trusted documents, by the SHA-256 (hex) of their text; `enforce`: nothing else runs. */
export interface PersistedDocuments {
  documents: ReadonlyMap<string, string>;
  enforce: boolean;
}

const SHA256_KEY = /^(?:sha256:)?([0-9a-f]{64})$/;

export const sha256Hex = (text: string) => createHash('sha256').update(text).digest('hex');

/**
 * Reads graphql-codegen's persisted-documents output (client preset, `persistedDocuments` with
 * sha256): one JSON object, each key the SHA-256 of its document's text (hex, or `sha256:` and hex
 * as the GraphQL over HTTP proposal spells a document id). A file that cannot be read or parsed,
 * a key that is not such a hash, a hash that is not its document's, or a document that is not
 * GraphQL is a problem: the gateway does not start on a list it would misread.
 */
export async function readPersistedDocuments(
  config: { file: string; enforce: boolean },
  baseDir: string,
  problems: ConfigProblem[],
): Promise<PersistedDocuments | undefined> {
  const path = 'persistedDocuments.file';
  let text: string;
  try {
    text = await readFile(resolve(baseDir, config.file), 'utf8');
  } catch (e) {
    problems.push({ path, reason: `cannot read ${config.file}: ${(e as NodeJS.ErrnoException).code ?? e}` });
    return undefined;
  }
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    problems.push({ path, reason: `${config.file} is not JSON: ${(e as Error).message}` });
    return undefined;
  }
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    problems.push({ path, reason: `${config.file}: expected an object of "<sha256>": "<document>"` });
    return undefined;
  }
  const documents = new Map<string, string>();
  for (const [key, document] of Object.entries(json)) {
    const where = `${config.file}: ${JSON.stringify(key.slice(0, 80))}`;
    const hash = SHA256_KEY.exec(key)?.[1];
    if (hash === undefined) {
      problems.push({ path, reason: `${where} is not a SHA-256 (64 lower-case hex digits)` });
      continue;
    }
    if (typeof document !== 'string') {
      problems.push({ path, reason: `${where}: the document must be a string` });
      continue;
    }
    if (sha256Hex(document) !== hash) {
      problems.push({ path, reason: `${where} is not the SHA-256 of its document (${sha256Hex(document)})` });
      continue;
    }
    try {
      parse(document);
    } catch (e) {
      problems.push({ path, reason: `${where}: not a GraphQL document (${(e as Error).message})` });
      continue;
    }
    documents.set(hash, document);
  }
  return { documents, enforce: config.enforce };
}
