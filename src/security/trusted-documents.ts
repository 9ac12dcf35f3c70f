import type { Plugin } from 'graphql-yoga';
import { type PersistedDocuments, sha256Hex } from '../config/persisted-documents.ts';
import { gatewayError } from '../schema/core/errors.ts';

/** What a request may carry to name its document, over HTTP (body or URL) and graphql-ws alike. */
export interface DocumentParams {
  query?: unknown;
  extensions?: unknown;
  documentId?: unknown;
}

const DOCUMENT_ID = /^(?:sha256:)?([0-9a-f]{64})$/;

/**
 * The hash a request names its document by: Apollo's `extensions.persistedQuery.sha256Hash`
 * (version 1, what yoga's persisted-operations plugin reads), or `documentId` (the GraphQL over
 * HTTP proposal: `sha256:` and the hex digest, or the bare digest) in the body or, for a GET, the URL.
 * Anything else spelled there is an id that matches nothing.
 */
export function documentIdOf(params: DocumentParams, url?: URL): string | undefined {
  const persisted = (params.extensions as { persistedQuery?: { version?: unknown; sha256Hash?: unknown } } | undefined)
    ?.persistedQuery;
  let id: unknown;
  if (persisted && typeof persisted === 'object' && persisted.version === 1) id = persisted.sha256Hash;
  id ??= params.documentId ?? url?.searchParams.get('documentId') ?? undefined;
  if (id === undefined) return undefined;
  return (typeof id === 'string' && DOCUMENT_ID.exec(id)?.[1]) || '';
}

/**
 * The text a request runs under the trusted-documents rule, or undefined when it names none (yoga
 * then says a query is needed). A named document must be listed (PERSISTED_QUERY_NOT_FOUND; the
 * list is the operator's, clients register nothing); a `query` sent with it must be its text. A
 * free-form `query` runs only when the list is not enforced (PERSISTED_QUERY_ONLY).
 */
export function trustedQuery(trusted: PersistedDocuments, params: DocumentParams, url?: URL): string | undefined {
  const id = documentIdOf(params, url);
  const query = typeof params.query === 'string' && params.query !== '' ? params.query : undefined;
  if (id !== undefined) {
    const document = trusted.documents.get(id);
    if (document === undefined) {
      throw gatewayError('PERSISTED_QUERY_NOT_FOUND', 'no trusted document has this hash', {
        http: { status: 404 },
      });
    }
    if (query !== undefined && query !== document) {
      throw gatewayError('INVALID_INPUT', 'query: not the text of the trusted document the request names', {
        field: 'query',
        http: { status: 400 },
      });
    }
    return document;
  }
  if (query === undefined) return undefined;
  if (trusted.enforce) {
    throw gatewayError(
      'PERSISTED_QUERY_ONLY',
      'only trusted documents run here: send extensions.persistedQuery.sha256Hash or documentId, not query',
      { http: { status: 400 } },
    );
  }
  return query;
}

/** The rule on HTTP (POST, GET and SSE): the named document replaces the request's query before yoga parses it. */
export function useTrustedDocuments(trusted: PersistedDocuments): Plugin {
  return {
    onParams({ params, request, setParams }) {
      const query = trustedQuery(trusted, params as DocumentParams, new URL(request.url));
      if (query !== undefined && query !== params.query) setParams({ ...params, query });
    },
  };
}

/** Whether `query` is the text of a trusted document (a stream ticket's URL then names it by id). */
export function trustedIdOf(trusted: PersistedDocuments | undefined, query: string): string | undefined {
  const hash = sha256Hex(query);
  return trusted?.documents.get(hash) === query ? hash : undefined;
}
