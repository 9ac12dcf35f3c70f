import type { ConfigProblem } from './config-error.ts';

export const LOG_LEVELS = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/** The process-level settings index.ts reads from the environment (the rest is loadConfig's). */
export interface Environment {
  logLevel: LogLevel;
  logFormat: 'json' | 'pretty';
  redisUrl?: string;
}

/** LOG_LEVEL, LOG_FORMAT, REDIS_URL and UV_THREADPOOL_SIZE, checked: every wrong one is a `path: reason` problem. */
export function readEnvironment(env: NodeJS.ProcessEnv): { environment: Environment; problems: ConfigProblem[] } {
  const problems: ConfigProblem[] = [];
  const set = (name: string) => (env[name] === undefined || env[name] === '' ? undefined : env[name]);
  const level = set('LOG_LEVEL') ?? 'info';
  if (!(LOG_LEVELS as readonly string[]).includes(level)) {
    problems.push({
      path: 'LOG_LEVEL',
      reason: `must be one of ${LOG_LEVELS.join(', ')}, not ${JSON.stringify(level)}`,
    });
  }
  const format = set('LOG_FORMAT') ?? 'json';
  if (format !== 'json' && format !== 'pretty') {
    problems.push({ path: 'LOG_FORMAT', reason: `must be json or pretty, not ${JSON.stringify(format)}` });
  }
  const redisUrl = set('REDIS_URL');
  if (redisUrl !== undefined && !isRedisUrl(redisUrl)) {
    problems.push({ path: 'REDIS_URL', reason: 'must be a redis:// or rediss:// URL, e.g. redis://127.0.0.1:6379' });
  }
  // libuv reads it itself and silently falls back to 4 on nonsense (npm start sets 16).
  const pool = set('UV_THREADPOOL_SIZE');
  if (pool !== undefined && !(/^\d{1,4}$/.test(pool) && Number(pool) >= 1 && Number(pool) <= 1024)) {
    problems.push({
      path: 'UV_THREADPOOL_SIZE',
      reason: `must be an integer between 1 and 1024, not ${JSON.stringify(pool)}`,
    });
  }
  return {
    environment: {
      logLevel: level as LogLevel,
      logFormat: format as 'json' | 'pretty',
      ...(redisUrl === undefined ? {} : { redisUrl }),
    },
    problems,
  };
}

function isRedisUrl(value: string): boolean {
  try {
    const url = new URL(value);
    return (url.protocol === 'redis:' || url.protocol === 'rediss:') && url.hostname !== '';
  } catch {
    return false;
  }
}

/** A failed listen (port in use, a privileged port) as `path: reason`, or undefined for any other error. */
export function listenProblem(error: unknown, port: number): ConfigProblem | undefined {
  const e = error as NodeJS.ErrnoException & { address?: string; port?: number };
  const where = `${e.address ?? '?'}:${e.port ?? '?'}`;
  const path = e.port === undefined || e.port === port ? 'port' : 'metrics.listen';
  if (e.code === 'EADDRINUSE') return { path, reason: `${where} is already in use by another process` };
  if (e.code === 'EACCES') return { path, reason: `${where} may not be bound by this user (a port below 1024?)` };
  if (e.code === 'EADDRNOTAVAIL') return { path, reason: `${where}: no interface of this machine has that address` };
  return undefined;
}
