import { type GraphQLSchema, Kind, parse, validate } from 'graphql';
import { builder } from '../core/builder.ts';
import type { GatewayContext } from '../core/context.ts';
import { gatewayError, invalidInput } from '../core/errors.ts';
import { clientMutationId, payloadInput } from '../core/mutation-support.ts';

// createStreamTicket: how a browser's EventSource, which cannot send Authorization, subscribes
// with an identity (README, Browsers and cross-site requests).

/** Node's HTTP parser refuses a request line and headers past 16 KiB: the URL must fit. */
const MAX_QUERY_BYTES = 8 * 1024;

interface StreamTicketShape {
  ticket: string;
  url: string;
  expiresAt: Date;
}

const StreamTicket = builder.objectRef<StreamTicketShape>('StreamTicket').implement({
  description:
    'A single-use pass for one EventSource: GET url (same origin, or an origin in cors.origins) before expiresAt runs the document it was issued for, as the identity that asked, and no other.',
  fields: (t) => ({
    clientMutationId: t.string(clientMutationId),
    url: t.exposeString('url', {
      nullable: false,
      description:
        'The EventSource URL: /graphql with the document (`query`, or `documentId` when it is a trusted document), `variables` and `ticket`.',
    }),
    ticket: t.exposeString('ticket', { nullable: false, description: 'The ticket alone, for ?ticket= on /graphql.' }),
    expiresAt: t.field({
      type: 'DateTime',
      nullable: false,
      description: 'When the ticket stops being taken (60 s after issue); a stream opened before then runs on.',
      resolve: (t) => t.expiresAt,
    }),
  }),
});

/** The document parsed and valid against the schema, and running no mutation: GET never runs one. */
function checkedDocument(schema: GraphQLSchema, query: string): void {
  if (Buffer.byteLength(query) > MAX_QUERY_BYTES) {
    throw invalidInput('query', `longer than ${MAX_QUERY_BYTES} bytes: an EventSource URL must fit in 16 KiB`);
  }
  let document: ReturnType<typeof parse>;
  try {
    document = parse(query, { maxTokens: 5_000 });
  } catch (e) {
    throw invalidInput('query', (e as Error).message);
  }
  const [error] = validate(schema, document);
  if (error) throw invalidInput('query', error.message);
  for (const definition of document.definitions) {
    if (definition.kind === Kind.OPERATION_DEFINITION && definition.operation === 'mutation') {
      throw invalidInput('query', 'a stream ticket runs queries and subscriptions, never a mutation');
    }
  }
}

function parseVariables(text: string | null | undefined): Record<string, unknown> | null {
  if (text == null || text === '') return null;
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw invalidInput('variables', 'not JSON');
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidInput('variables', 'must be a JSON object');
  }
  return value as Record<string, unknown>;
}

builder.mutationFields((t) => ({
  createStreamTicket: t.field({
    // No privilege of its own: the ticket runs the document as the caller, whose privileges its
    // fields check when it runs, exactly as over POST. A ticket grants nothing the caller lacks.
    authScopes: () => true,
    type: StreamTicket,
    description:
      'A ticket for a browser EventSource, which cannot send Authorization: bound to this query or subscription, its variables and the caller; single use, 60 s to take, on GET only (README, Browsers and cross-site requests). Any identity may ask; the document’s fields are checked when it runs.',
    args: payloadInput('CreateStreamTicket', {
      query: t.arg.string({
        required: true,
        description: 'The query or subscription the EventSource will run, exactly as it will be sent.',
      }),
      variables: t.arg.string({
        description: 'Its variables as a JSON object, as the URL will carry them (`variables=`); none when omitted.',
      }),
    }),
    resolve: async (_r, { input }, context, info) => {
      const ctx = context as GatewayContext & { request?: Request };
      if (!ctx.streamTickets) throw gatewayError('UNSUPPORTED', 'this gateway issues no stream tickets');
      // Over graphql-ws the socket already streams, and the resolver never sees its credentials to seal.
      if (!ctx.request) {
        throw gatewayError(
          'UNSUPPORTED',
          'createStreamTicket is served over HTTP only; a WebSocket can subscribe itself',
        );
      }
      checkedDocument(info.schema, input.query);
      return ctx.streamTickets.issue(ctx.request, input.query, parseVariables(input.variables));
    },
  }),
}));
