import { deferred } from './test-host.ts';

/** Collects a console stream's text (its listener for ConsoleStream.open) and resolves waits for a substring. */
export function consoleCollector() {
  let text = '';
  const waits: Array<{ needle: string; resolve: () => void }> = [];
  const ended = deferred<'end' | 'error'>();
  return {
    get text() {
      return text;
    },
    ended: ended.promise,
    listener: {
      onData(data: Buffer) {
        text += data.toString('latin1');
        for (const w of waits.filter((w) => text.includes(w.needle))) {
          waits.splice(waits.indexOf(w), 1);
          w.resolve();
        }
      },
      onEnd: () => ended.resolve('end'),
      onError: () => ended.resolve('error'),
    },
    until(needle: string): Promise<void> {
      if (text.includes(needle)) return Promise.resolve();
      const d = deferred<void>();
      waits.push({ needle, resolve: () => d.resolve() });
      return d.promise;
    },
  };
}
