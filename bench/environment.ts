import { availableParallelism, cpus } from 'node:os';
import type { Connection } from '../src/libvirt/index.ts';
import { measureThreadpoolSize } from './threadpool-size.ts';

export async function describeEnvironment(c: Connection): Promise<string[]> {
  const libvirt = (await c.libVersion()).text;
  const requested = process.env.UV_THREADPOOL_SIZE ?? '(unset: libuv default 4)';
  const running = await measureThreadpoolSize();
  const pool =
    running === undefined
      ? 'pool threads not measurable here'
      : `${running} pool threads running${String(running) === process.env.UV_THREADPOOL_SIZE ? '' : ' (the pool started before the variable was set)'}`;
  return [
    `virtql binding benchmark on ${c.uri}`,
    `node ${process.version} · libvirt ${libvirt} · ${availableParallelism()} CPUs (${cpus()[0]?.model.trim() ?? 'unknown model'})`,
    `UV_THREADPOOL_SIZE=${requested} · ${pool}`,
  ];
}
