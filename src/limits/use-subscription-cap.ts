import type { ExecutionArgs } from 'graphql';
import { isAsyncIterable, type Plugin } from 'graphql-yoga';
import type { Identity } from '../auth/identity.ts';
import { limitExceeded } from './limit-errors.ts';

/**
 * At most `subscriptionsPerIdentity` subscriptions open at once per identity, over SSE and
 * graphql-ws together. A slot is taken before subscribing and given back when the stream
 * ends, fails to start, or the client stops it. Counted per process.
 */
export function useSubscriptionCap({ subscriptionsPerIdentity }: { subscriptionsPerIdentity: number }): Plugin {
  const open = new Map<string, number>();
  const release = (key: string) => {
    const n = (open.get(key) ?? 1) - 1;
    if (n > 0) open.set(key, n);
    else open.delete(key);
  };
  return {
    onSubscribe({ args, subscribeFn, setSubscribeFn, setResultAndStopExecution }) {
      const identity = (args.contextValue as { identity?: Identity }).identity;
      if (!identity) return undefined;
      const { key } = identity;
      const held = open.get(key) ?? 0;
      if (held >= subscriptionsPerIdentity) {
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
      open.set(key, held + 1);
      let released = false;
      const releaseOnce = () => {
        if (released) return;
        released = true;
        release(key);
      };
      setSubscribeFn(async (subscribeArgs: ExecutionArgs) => {
        try {
          return await subscribeFn(subscribeArgs);
        } catch (error) {
          releaseOnce();
          throw error;
        }
      });
      return {
        onSubscribeResult({ result }) {
          if (!isAsyncIterable(result)) {
            releaseOnce();
            return undefined;
          }
          return { onEnd: releaseOnce };
        },
      };
    },
  };
}
