import type { ExecutionResult } from 'graphql';
import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Identity } from '../auth/identity.ts';
import { rateLimited } from './limit-errors.ts';
import type { WindowCounter } from './window-counter.ts';

export interface RateLimitOptions {
  /** Operations per identity per window; 0 turns the limit off. */
  requests: number;
  windowSeconds: number;
  counter: WindowCounter;
  /** Where a counter failure is logged; the operation then goes ahead (the limit fails open). */
  logger?: Logger;
}

/**
 * A fixed-window limit on operations per identity: every query and mutation over HTTP, SSE
 * or graphql-ws, and every subscribe. Past it the operation answers RATE_LIMITED (429 over
 * HTTP) with `retryAfterSeconds`, before it runs.
 */
export function useRateLimit({ requests, windowSeconds, counter, logger }: RateLimitOptions): Plugin {
  if (requests === 0) return {};
  const windowMs = windowSeconds * 1000;
  const refusal = async (context: unknown): Promise<ExecutionResult | undefined> => {
    const identity = (context as { identity?: Identity }).identity;
    if (!identity) return undefined;
    try {
      const { count, resetInMs } = await counter.hit(identity.key, windowMs);
      if (count <= requests) return undefined;
      return { errors: [rateLimited(requests, Math.max(1, Math.ceil(resetInMs / 1000)))] };
    } catch (error) {
      logger?.warn({ err: error }, 'rate limit counter unavailable; operation allowed');
      return undefined;
    }
  };
  return {
    async onExecute({ args, setResultAndStopExecution }) {
      const refused = await refusal(args.contextValue);
      if (refused) setResultAndStopExecution(refused);
    },
    async onSubscribe({ args, setResultAndStopExecution }) {
      const refused = await refusal(args.contextValue);
      if (refused) setResultAndStopExecution(refused);
    },
  };
}
