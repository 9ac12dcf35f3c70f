import type { ExecutionArgs } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { Identity } from '../auth/identity.ts';
import { limitExceeded } from './limit-errors.ts';
import type { SubscriptionSlots } from './subscription-slots.ts';

export interface SubscriptionCapOptions {
  subscriptionsPerIdentity: number;
  slots: SubscriptionSlots;
  /** Where a slot store failure is logged; the subscription then goes ahead (the cap fails open). */
  logger?: Logger;
}

/**
 * At most `subscriptionsPerIdentity` subscriptions open at once per identity, over SSE and
 * graphql-ws together. A place is taken before subscribing and given back when the stream
 * ends, fails to start, or the client stops it.
 */
export function useSubscriptionCap({ subscriptionsPerIdentity, slots, logger }: SubscriptionCapOptions): Plugin {
  return {
    async onSubscribe({ args, subscribeFn, setSubscribeFn, setResultAndStopExecution }) {
      const identity = (args.contextValue as { identity?: Identity }).identity;
      if (!identity) return undefined;
      let release: (() => void) | undefined;
      try {
        release = await slots.acquire(identity.key, subscriptionsPerIdentity);
      } catch (error) {
        logger?.warn({ err: error }, 'subscription cap store unavailable; subscription allowed');
        return undefined;
      }
      if (!release) {
        setResultAndStopExecution({
          errors: [
            limitExceeded(
              'subscriptionsPerIdentity',
              subscriptionsPerIdentity,
              `at most ${subscriptionsPerIdentity} open subscriptions per identity`,
              {},
              429,
            ),
          ],
        });
        return undefined;
      }
      const done = release;
      setSubscribeFn(async (subscribeArgs: ExecutionArgs) => {
        try {
          return await subscribeFn(subscribeArgs);
        } catch (error) {
          done();
          throw error;
        }
      });
      return {
        onSubscribeResult({ result }) {
          if (!isAsyncIterable(result)) {
            done();
            return undefined;
          }
          return { onEnd: done };
        },
      };
    },
  };
}
