/**
 * libvirtd serves a client's requests five at a time (`max_client_requests`), and one batch call
 * runs its items one after another on one of its connection's five threads (src/native/handles.h,
 * kLaneThreads). A large batch is therefore split into up to four chunks, called at once, which
 * leaves a thread for the calls running beside it (an inventory's bulk stats): with a chunk on
 * every thread, the stats waited for one, or a chunk for the stats. Each chunk is one binding call,
 * so calls per batch stay bounded whatever the number of objects.
 */
export const MAX_PARALLEL_CHUNKS = 4;
/** Below this many items per chunk, another round trip costs more than it saves. */
const MIN_CHUNK = 100;

/** Runs `call` over `items` in at most MAX_PARALLEL_CHUNKS concurrent chunks; results in item order. */
export async function inParallelChunks<T, R>(
  items: readonly T[],
  call: (chunk: T[]) => Promise<R[]>,
  minChunk = MIN_CHUNK,
): Promise<R[]> {
  if (items.length === 0) return [];
  const chunks = Math.min(MAX_PARALLEL_CHUNKS, Math.max(1, Math.floor(items.length / minChunk)));
  if (chunks === 1) return call([...items]);
  const size = Math.ceil(items.length / chunks);
  const parts: T[][] = [];
  for (let i = 0; i < items.length; i += size) parts.push(items.slice(i, i + size));
  return (await Promise.all(parts.map(call))).flat();
}
