import { type DestinationStream, type Logger, pino } from 'pino';
import pretty from 'pino-pretty';

export type LogFormat = 'json' | 'pretty';

export interface LoggerOptions {
  /** pino's level (env LOG_LEVEL). @default 'info' */
  level?: string;
  /** `json`: one JSON object per line, for collectors; `pretty`: readable lines for a terminal (env LOG_FORMAT). @default 'json' */
  format?: LogFormat;
  /** Where lines go. @default stdout */
  destination?: DestinationStream;
}

/** Whether `value` (env LOG_FORMAT) names a format; unset means json. */
export function parseLogFormat(value: string | undefined): LogFormat | undefined {
  if (value === undefined || value === '' || value === 'json') return 'json';
  return value === 'pretty' ? 'pretty' : undefined;
}

/** The gateway's root logger. Pretty output is written synchronously, so lines logged right before an exit are not lost. */
export function createLogger({ level = 'info', format = 'json', destination }: LoggerOptions = {}): Logger {
  if (format === 'pretty') {
    return pino(
      { level },
      pretty({
        sync: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        ...(destination ? { destination } : {}),
      }),
    );
  }
  return destination ? pino({ level }, destination) : pino({ level });
}
