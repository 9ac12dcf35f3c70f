import { GraphQLError } from 'graphql';
import type { StoragePool, Volume } from '../libvirt/index.ts';
import { fetchImage } from './image-fetch.ts';
import type { UrlRule } from './url-policy.ts';
import { pumpUpload } from './volume-pump.ts';

export interface ImportInput {
  pool: StoragePool;
  url: string;
  /** The new volume's XML for a capacity (the image's size, known once the server answered). */
  volumeXml(capacityBytes: bigint): Promise<string>;
  format: string;
  sha256?: string;
  rules: readonly UrlRule[];
  maxRedirects: number;
  timeoutMs: number;
  signal: AbortSignal;
  onProgress(done: bigint, total: bigint): void;
}

export interface Imported {
  volume: Volume;
  bytes: bigint;
  sha256: string;
  url: string;
}

/**
 * Fetches an image (fetchImage: allowed URLs and addresses only) into a new volume of its size,
 * through virStorageVolUpload. A failure, a cancel or a sha256 mismatch deletes the volume.
 * Raw images go sparse (zero runs as holes) into the new, empty volume; other formats as they are.
 */
export async function importImage(input: ImportInput): Promise<Imported> {
  const fetched = await fetchImage(input.url, input);
  if (fetched.size === null || fetched.size === 0n) {
    fetched.body.destroy();
    throw new GraphQLError(`${fetched.url} did not give the image’s size (Content-Length)`, {
      extensions: { code: 'CONNECTION_FAILED', field: 'url' },
    });
  }
  const size = fetched.size;
  let volume: Volume;
  try {
    volume = await input.pool.createVolume(await input.volumeXml(size));
  } catch (e) {
    fetched.body.destroy();
    throw e;
  }
  try {
    const result = await pumpUpload({
      volume,
      grant: { offset: 0n, length: size, capacity: size, sparse: input.format === 'raw' },
      body: fetched.body,
      signal: input.signal,
      onProgress: (bytes) => input.onProgress(bytes, size),
      ...(input.sha256 === undefined ? {} : { expectSha256: input.sha256 }),
    });
    if (result.bytes !== size) {
      throw new GraphQLError(`${fetched.url} sent ${result.bytes} of its ${size} bytes`, {
        extensions: { code: 'CONNECTION_FAILED', field: 'url' },
      });
    }
    return { volume, bytes: result.bytes, sha256: result.sha256, url: fetched.url };
  } catch (e) {
    fetched.body.destroy();
    await volume.delete().catch(() => undefined);
    const cut = e instanceof GraphQLError && e.extensions.code === 'INTERRUPTED' && !input.signal.aborted;
    if (!cut) throw e;
    throw new GraphQLError(`${fetched.url} closed the connection before the end of the image`, {
      extensions: { code: 'CONNECTION_FAILED', field: 'url' },
    });
  }
}
