import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { createServer } from 'node:net';
import { createInterface } from 'node:readline';
import { afterEach, expect, it } from 'vitest';
import { terminateProcess } from '../support/process-exit.ts';

let child: ChildProcess | undefined;
afterEach(async () => {
  if (child?.pid !== undefined) await terminateProcess(child.pid);
  child = undefined;
});

async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

/** Starts `src/index.ts` and collects its stdout lines up to the one naming the GraphQL URL. */
async function startUntilBanner(env: Record<string, string>): Promise<string[]> {
  const port = await freePort();
  child = spawn(process.execPath, ['--import', 'tsx', 'src/index.ts'], {
    env: { ...process.env, VIRTQL_HOSTS: 'default=test:///default', PORT: String(port), ...env },
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const lines: string[] = [];
  const exited = once(child, 'exit').then(([code]) => {
    throw new Error(`virtql exited (${code}) before its banner: ${lines.join('\n')}`);
  });
  const banner = (async () => {
    for await (const line of createInterface({ input: child.stdout as NodeJS.ReadableStream })) {
      lines.push(line);
      if (line.includes(`http://127.0.0.1:${port}/graphql`) || line.includes(`http://localhost:${port}/graphql`)) {
        return lines;
      }
    }
    throw new Error(`stdout ended before the banner: ${lines.join('\n')}`);
  })();
  return Promise.race([banner, exited]);
}

it('logs only JSON lines, the banner among them', async () => {
  const lines = await startUntilBanner({});
  const parsed = lines.map((line) => JSON.parse(line) as Record<string, unknown>);
  expect(parsed.at(-1)).toMatchObject({ level: 30, graphiql: true, url: expect.stringMatching(/\/graphql$/) });
}, 30_000);

it('writes readable lines with LOG_FORMAT=pretty', async () => {
  const lines = await startUntilBanner({ LOG_FORMAT: 'pretty', NO_COLOR: '1' });
  const banner = lines.at(-1) ?? '';
  expect(() => JSON.parse(banner)).toThrow();
  expect(banner).toMatch(/INFO.*virtql: GraphQL and GraphiQL at http:\/\/\S+\/graphql/);
}, 30_000);
