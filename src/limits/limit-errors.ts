import type { GraphQLError } from 'graphql';
import type { LimitsConfig } from '../config/security-schema.ts';
import { gatewayError } from '../schema/core/errors.ts';

/** The name of a configured limit, as clients see it in `extensions.limit`. */
export type LimitName = Exclude<keyof LimitsConfig, 'assumedListSize'>;

/** LIMIT_EXCEEDED naming the limit and its maximum; `status` is the HTTP status yoga answers with, where it has a say. */
export function limitExceeded(
  limit: LimitName,
  max: number,
  message: string,
  extensions: Record<string, unknown> = {},
  status?: number,
): GraphQLError {
  return gatewayError('LIMIT_EXCEEDED', message, {
    limit,
    max,
    ...extensions,
    ...(status ? { http: { status } } : {}),
  });
}

/** RATE_LIMITED with when to retry, answered 429 over HTTP. */
export function rateLimited(max: number, retryAfterSeconds: number): GraphQLError {
  return gatewayError(
    'RATE_LIMITED',
    `rate limit of ${max} requests per window reached; retry in ${retryAfterSeconds} s`,
    {
      limit: 'rateLimit',
      max,
      retryAfterSeconds,
      http: { status: 429, headers: { 'retry-after': String(retryAfterSeconds) } },
    },
  );
}
