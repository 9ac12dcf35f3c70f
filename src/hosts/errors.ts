/** A request named a host the registry does not have. */
export class UnknownHostError extends Error {
  override readonly name = 'UnknownHostError';

  constructor(
    readonly host: string,
    known: readonly string[] = [],
  ) {
    super(`unknown host ${JSON.stringify(host)}${known.length > 0 ? ` (configured: ${known.join(', ')})` : ''}`);
  }
}

/** The registry was closed: no connection is handed out any more. */
export class HostRegistryClosedError extends Error {
  override readonly name = 'HostRegistryClosedError';

  constructor(readonly host: string) {
    super(`host registry is closed; no connection to ${JSON.stringify(host)}`);
  }
}

/** Opening (or checking) a host's connection took longer than its time limit. */
export class HostTimeoutError extends Error {
  override readonly name = 'HostTimeoutError';

  constructor(
    readonly host: string,
    readonly timeoutMs: number,
    what = 'connecting',
  ) {
    super(`${what} to host ${JSON.stringify(host)} took longer than ${timeoutMs} ms`);
  }
}

export function errorMessage(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}
