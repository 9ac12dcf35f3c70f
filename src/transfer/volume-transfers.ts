import { randomUUID } from 'node:crypto';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { GraphQLError } from 'graphql';
import type { Logger } from 'pino';
import type { AuditLog } from '../audit/audit-log.ts';
import type { AuditRecord } from '../audit/audit-record.ts';
import type { IdentityKind } from '../auth/identity.ts';
import { LibvirtError } from '../libvirt/index.ts';
import { liftRequestDeadline } from '../request-deadline.ts';
import type { HostSource } from '../schema/core/context.ts';
import { createMemoryTicketStore, type Expiring, newTicket, TICKET_SHAPE } from '../security/ticket-store.ts';
import { parseRange } from './byte-range.ts';
import { type Pumped, pumpDownload, pumpUpload } from './volume-pump.ts';

/** Where volume data is served, on the GraphQL port: `PUT|GET /volume-data/<ticket>`. */
export const TRANSFER_PATH = '/volume-data/';

export type TransferDirection = 'UPLOAD' | 'DOWNLOAD';

/** What uploadVolume or downloadVolume let the URL's holder do, and for whom. */
export interface TransferGrant extends Expiring {
  id: string;
  direction: TransferDirection;
  /** Identity.key of the caller: a request presenting other credentials is refused. */
  identityKey: string;
  identityName: string;
  identityKind: IdentityKind;
  host: string;
  volumeKey: string;
  volumePath: string;
  /** Where the window starts in the volume, and its size in bytes. */
  offset: bigint;
  length: bigint;
  /** The volume's capacity when the URL was issued: an upload whose zeros reach it may end in a hole. */
  capacity: bigint;
  sparse: boolean;
  source: string | null;
}

export interface TransferResult {
  /** Bytes that went through the HTTP body (holes as their zeros). */
  bytes: bigint;
  /** sha256 (hex) of those bytes. */
  sha256: string;
  /** Where the bytes started in the volume. */
  offset: bigint;
}

export interface TransferProgress {
  bytesDone: bigint;
  bytesTotal: bigint | null;
}

/** One issued URL: its ticket, and the outcome its HTTP request will have. */
export interface IssuedTransfer {
  ticket: string;
  path: string;
  expiresAt: Date;
  /** Settles when the HTTP request ends (or the URL expires unused, or cancel()). */
  done: Promise<TransferResult>;
  progress(): TransferProgress;
  cancel(): Promise<void>;
}

interface Pending {
  grant: TransferGrant;
  state: 'waiting' | 'running' | 'over';
  bytes: bigint;
  total: bigint | null;
  resolve(result: TransferResult): void;
  reject(error: Error): void;
  /** Ends the running request (a cancel). */
  stop?: () => void;
  timer: NodeJS.Timeout;
}

function transferError(code: string, message: string, extra: Record<string, unknown> = {}): GraphQLError {
  return new GraphQLError(message, { extensions: { code, ...extra } });
}

export interface VolumeTransfersOptions {
  hosts: HostSource;
  audit: AuditLog;
  ticketSeconds: number;
  /** Checks the request as the app's gate does (route, Host, Origin, credentials): undefined when it passes. */
  gate(
    request: Request,
    req: IncomingMessage,
  ): Promise<{ status: number; code?: string; message?: string } | undefined>;
  /** The caller the gate authenticated. */
  identityOf(request: Request): { key: string } | undefined;
  logger?: Logger;
}

/**
 * Volume data over HTTP. uploadVolume/downloadVolume issue a single-use URL (a 256-bit ticket,
 * kept as a digest, in this process: the operation that waits for it runs here too), bound to the
 * caller's identity. PUT streams the body into virStorageVolUpload, GET streams
 * virStorageVolDownload out (Range answered with 206), each one buffer at a time.
 */
export class VolumeTransfers {
  readonly #tickets = createMemoryTicketStore<TransferGrant>();
  readonly #pending = new Map<string, Pending>();
  readonly #options: VolumeTransfersOptions;

  constructor(options: VolumeTransfersOptions) {
    this.#options = options;
  }

  /** Whether a request's raw URL is for this endpoint (the gate still checks it). */
  static handles(rawUrl: string | undefined): boolean {
    return rawUrl?.startsWith(TRANSFER_PATH) === true;
  }

  async issue(grant: Omit<TransferGrant, 'id' | 'expiresAt'>): Promise<IssuedTransfer> {
    const ticket = newTicket();
    const expiresAt = Date.now() + this.#options.ticketSeconds * 1000;
    const full: TransferGrant = { ...grant, id: randomUUID(), expiresAt };
    let resolve!: (r: TransferResult) => void;
    let reject!: (e: Error) => void;
    const done = new Promise<TransferResult>((res, rej) => {
      resolve = res;
      reject = rej;
    });
    const pending: Pending = {
      grant: full,
      state: 'waiting',
      bytes: 0n,
      total: grant.length,
      resolve,
      reject,
      timer: setTimeout(() => {
        if (pending.state === 'waiting')
          this.#end(pending, transferError('INVALID_STATE', 'the transfer URL expired unused'));
      }, expiresAt - Date.now()).unref(),
    };
    this.#pending.set(full.id, pending);
    await this.#tickets.put(ticket, full);
    return {
      ticket,
      path: `${TRANSFER_PATH}${ticket}`,
      expiresAt: new Date(expiresAt),
      done,
      progress: () => ({ bytesDone: pending.bytes, bytesTotal: pending.total }),
      cancel: async () => {
        if (pending.state === 'waiting') this.#end(pending, transferError('INVALID_STATE', 'cancelled'));
        else pending.stop?.();
      },
    };
  }

  #end(p: Pending, outcome: TransferResult | Error): void {
    if (p.state === 'over') return;
    p.state = 'over';
    clearTimeout(p.timer);
    this.#pending.delete(p.grant.id);
    if (outcome instanceof Error) p.reject(outcome);
    else p.resolve(outcome);
  }

  /** Serves one request under TRANSFER_PATH. Never rejects. */
  async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    try {
      await this.#serve(req, res);
    } catch (e) {
      this.#options.logger?.error({ err: e }, 'volume transfer failed');
      if (!res.headersSent) reply(res, 500, 'INTERNAL', 'the transfer failed');
      else res.destroy();
    }
  }

  async #serve(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const rawUrl = req.url ?? '/';
    const headers = new Headers();
    for (const [name, value] of Object.entries(req.headers)) {
      if (typeof value === 'string') headers.set(name, value);
      else if (Array.isArray(value)) for (const v of value) headers.append(name, v);
    }
    // The gate sees the path exactly as sent (its route is TRANSFER_PATH, a prefix).
    const request = new Request(`http://localhost${rawUrl}`, { method: 'GET', headers });
    const refused = await this.#options.gate(request, req);
    if (refused) {
      if (refused.status === 404 || !refused.code) return reply(res, refused.status, 'NOT_FOUND', 'not found');
      if (refused.status === 401) res.setHeader('www-authenticate', 'Bearer');
      return reply(res, refused.status, refused.code, refused.message ?? 'refused');
    }
    const ticket = rawUrl.slice(TRANSFER_PATH.length);
    if (!TICKET_SHAPE.test(ticket)) return reply(res, 404, 'NOT_FOUND', 'no such transfer');
    if (req.method !== 'PUT' && req.method !== 'GET') {
      res.setHeader('allow', 'GET, PUT');
      return reply(res, 405, 'INVALID_INPUT', 'a transfer URL takes PUT (upload) or GET (download)');
    }
    const grant = await this.#tickets.take(ticket);
    const pending = grant && this.#pending.get(grant.id);
    if (!grant || !pending || pending.state !== 'waiting') {
      return reply(res, 404, 'NOT_FOUND', 'no such transfer: the URL is used, expired or unknown');
    }
    const source = req.socket.remoteAddress ?? null;
    const identity = this.#options.identityOf(request);
    if (identity?.key !== grant.identityKey) {
      const error = transferError('FORBIDDEN', 'the transfer URL was presented by another identity');
      this.#audit(grant, 'FORBIDDEN', 0, { source });
      this.#end(pending, error);
      return reply(res, 403, 'FORBIDDEN', 'this transfer URL was issued to another identity');
    }
    const method = grant.direction === 'UPLOAD' ? 'PUT' : 'GET';
    if (req.method !== method) {
      this.#end(pending, transferError('INVALID_INPUT', `the transfer URL was used with ${req.method}, not ${method}`));
      return reply(res, 405, 'INVALID_INPUT', `this transfer URL takes ${method}`);
    }
    pending.state = 'running';
    clearTimeout(pending.timer);
    // The URL's holder may take as long as the volume's size needs: no request deadline (Node's 5 minutes) cuts it.
    liftRequestDeadline(req);
    const started = Date.now();
    let outcome: Pumped;
    try {
      outcome = await this.#pump(grant, pending, req, res);
    } catch (e) {
      const error = asTransferError(e);
      this.#audit(grant, String(error.extensions.code), Date.now() - started, { source, bytes: String(pending.bytes) });
      // A libvirt error stays one, so the operation's errorCode maps it as every libvirt error is.
      this.#end(pending, e instanceof LibvirtError ? e : error);
      if (!res.headersSent) {
        const http = error.extensions.http as { status?: number } | undefined;
        return reply(
          res,
          http?.status ?? statusOf(String(error.extensions.code)),
          String(error.extensions.code),
          error.message,
        );
      }
      res.destroy();
      return;
    }
    const result: TransferResult = { bytes: outcome.bytes, sha256: outcome.sha256, offset: outcome.offset };
    this.#audit(grant, 'ok', Date.now() - started, {
      source,
      offset: String(outcome.offset),
      bytes: String(outcome.bytes),
      sha256: outcome.sha256,
    });
    this.#end(pending, result);
  }

  async #pump(grant: TransferGrant, pending: Pending, req: IncomingMessage, res: ServerResponse): Promise<Pumped> {
    const connection = await this.#options.hosts.connection(grant.host);
    const volume = await connection.volumeByKey(grant.volumeKey);
    const stop = new AbortController();
    pending.stop = () => stop.abort();
    const onProgress = (bytes: bigint) => {
      pending.bytes = bytes;
    };
    if (grant.direction === 'UPLOAD') {
      const declared = req.headers['content-length'];
      if (declared !== undefined && BigInt(declared) > grant.length) {
        throw transferError(
          'INVALID_INPUT',
          `the body (${declared} bytes) is larger than the transfer's ${grant.length} bytes`,
        );
      }
      const result = await pumpUpload({ volume, grant, body: req, signal: stop.signal, onProgress });
      const body = JSON.stringify({
        bytes: String(result.bytes),
        sha256: result.sha256,
        offset: String(result.offset),
      });
      res.writeHead(200, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return result;
    }
    const range = parseRange(req.headers.range, grant.length);
    if (range === 'unsatisfiable') {
      res.setHeader('content-range', `bytes */${grant.length}`);
      throw transferError('INVALID_INPUT', `Range ${req.headers.range} is outside the ${grant.length} bytes`, {
        http: { status: 416 },
      });
    }
    const window =
      range && range !== 'ignored'
        ? { offset: grant.offset + range.start, length: range.end - range.start + 1n }
        : { offset: grant.offset, length: grant.length };
    pending.total = window.length;
    const onOpen = () =>
      res.writeHead(range && range !== 'ignored' ? 206 : 200, {
        'content-type': 'application/octet-stream',
        'content-length': String(window.length),
        'accept-ranges': 'bytes',
        ...(range && range !== 'ignored'
          ? { 'content-range': `bytes ${range.start}-${range.end}/${grant.length}` }
          : {}),
      });
    return pumpDownload({ volume, window, res, signal: stop.signal, onProgress, onOpen });
  }

  #audit(grant: TransferGrant, result: string, durationMs: number, extra: Record<string, unknown>): void {
    const { source, ...rest } = extra;
    void this.#options.audit.write({
      time: new Date(Date.now() - durationMs).toISOString(),
      identity: { name: grant.identityName, kind: grant.identityKind },
      source: (source as string | null | undefined) ?? grant.source,
      host: grant.host,
      operation: grant.direction === 'UPLOAD' ? 'volumeUploadData' : 'volumeDownloadData',
      arguments: { volume: grant.volumePath, offset: String(grant.offset), length: String(grant.length), ...rest },
      result,
      durationMs,
    });
  }

  /** An audit record of data that went through without a URL of this endpoint (importVolume). */
  record(entry: Omit<AuditRecord, 'time'>): void {
    void this.#options.audit.write({ time: new Date(Date.now() - entry.durationMs).toISOString(), ...entry });
  }

  /** Fails every waiting or running transfer (shutdown). */
  async close(): Promise<void> {
    for (const p of [...this.#pending.values()]) {
      p.stop?.();
      if (p.state === 'waiting') this.#end(p, transferError('INVALID_STATE', 'the gateway is shutting down'));
    }
    await this.#tickets.close();
  }
}

function statusOf(code: string): number {
  const status: Record<string, number> = { INVALID_INPUT: 400, FORBIDDEN: 403, NOT_FOUND: 404, INTERRUPTED: 499 };
  return status[code] ?? 500;
}

function asTransferError(e: unknown): GraphQLError {
  if (e instanceof GraphQLError) return e;
  if (e instanceof LibvirtError) return transferError('LIBVIRT_ERROR', e.message, { libvirtCode: e.codeName });
  return transferError('INTERNAL', (e as Error).message);
}

function reply(res: ServerResponse, status: number, code: string, message: string): void {
  const body = JSON.stringify({ errors: [{ message, extensions: { code } }] });
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
