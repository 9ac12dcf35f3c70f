import type { PubSubEventTarget } from 'graphql-yoga';

// biome-ignore lint/suspicious/noExplicitAny: yoga's PubSubEventTarget takes topic payload types of any shape
type AnyTopics = Record<string, any>;

/** An event target that knows how many listeners each topic has: the pub/sub's subscribers. */
export interface CountingEventTarget<T extends AnyTopics> extends PubSubEventTarget<T> {
  /** Listeners of one topic, or of every topic. */
  listenerCount(topic?: string): number;
  /** Called after each add or remove; returns the function that stops calling it. */
  onChange(listener: (topic: string) => void): () => void;
}

/** The part of an event target this wrapper touches, without the typed-event generics. */
interface PlainTarget {
  addEventListener(topic: string, listener: unknown, options?: unknown): void;
  removeEventListener(topic: string, listener: unknown, options?: unknown): void;
  dispatchEvent(event: unknown): boolean;
}

/** Wraps an event target (in-memory or Redis) so the subscribers it serves can be counted. */
export function countListeners<T extends AnyTopics>(target: PubSubEventTarget<T>): CountingEventTarget<T> {
  const inner = target as unknown as PlainTarget;
  const byTopic = new Map<string, Set<unknown>>();
  const watchers = new Set<(topic: string) => void>();
  const changed = (topic: string) => {
    for (const watcher of [...watchers]) watcher(topic);
  };
  const counting: PlainTarget & Pick<CountingEventTarget<T>, 'listenerCount' | 'onChange'> = {
    addEventListener(topic, listener, options) {
      inner.addEventListener(topic, listener, options);
      if (listener == null) return;
      const set = byTopic.get(topic) ?? new Set();
      if (set.has(listener)) return;
      set.add(listener);
      byTopic.set(topic, set);
      changed(topic);
    },
    removeEventListener(topic, listener, options) {
      inner.removeEventListener(topic, listener, options);
      const set = byTopic.get(topic);
      if (listener == null || !set?.delete(listener)) return;
      if (set.size === 0) byTopic.delete(topic);
      changed(topic);
    },
    dispatchEvent: (event) => inner.dispatchEvent(event),
    listenerCount(topic) {
      if (topic !== undefined) return byTopic.get(topic)?.size ?? 0;
      let n = 0;
      for (const set of byTopic.values()) n += set.size;
      return n;
    },
    onChange(listener) {
      watchers.add(listener);
      return () => {
        watchers.delete(listener);
      };
    },
  };
  return counting as unknown as CountingEventTarget<T>;
}
