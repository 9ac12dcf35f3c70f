import { type DestinationStream, type Logger, pino, stdSerializers } from 'pino';
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

/** The most a logged error's message and stack keep, in characters: a client's 1 MB value inside one stays out. */
const MAX_ERROR_TEXT = 8192;

const cut = (text: string | undefined) =>
  text !== undefined && text.length > MAX_ERROR_TEXT
    ? `${text.slice(0, MAX_ERROR_TEXT)} … (${text.length} characters, cut)`
    : text;

/** pino's error serializer with the message and stack bounded. */
export function boundedErrorSerializer(error: Error): ReturnType<typeof stdSerializers.err> {
  const serialized = stdSerializers.err(error);
  return { ...serialized, message: cut(serialized.message) ?? '', stack: cut(serialized.stack) ?? '' };
}

/** The gateway's root logger. Pretty output is written synchronously, so lines logged right before an exit are not lost. */
export function createLogger({ level = 'info', format = 'json', destination }: LoggerOptions = {}): Logger {
  const options = { level, serializers: { err: boundedErrorSerializer } };
  if (format === 'pretty') {
    return pino(
      options,
      pretty({
        sync: true,
        translateTime: 'SYS:HH:MM:ss.l',
        ignore: 'pid,hostname',
        ...(destination ? { destination } : {}),
      }),
    );
  }
  return destination ? pino(options, destination) : pino(options);
}
