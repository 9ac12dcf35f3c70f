import type { IncomingMessage, ServerResponse } from 'node:http';

/** Node's own requestTimeout default: how long a client may take to send a whole request. */
export const REQUEST_DEADLINE_MS = 300_000;

const deadlines = new WeakMap<IncomingMessage, NodeJS.Timeout>();

/**
 * Node's requestTimeout cuts any request whose body takes longer than 5 minutes (408, socket
 * destroyed): a volume upload of a few GiB over a modest link is such a request. The server runs
 * with requestTimeout 0 and this deadline instead, on every request, which the transfer handler
 * lifts (`liftRequestDeadline`) once a request proved it holds a transfer URL for its identity:
 * a slow body without one is still cut, as Node would.
 */
export function startRequestDeadline(req: IncomingMessage, res: ServerResponse, ms = REQUEST_DEADLINE_MS): void {
  const timer = setTimeout(() => {
    if (!req.complete) req.socket.destroy();
  }, ms).unref();
  deadlines.set(req, timer);
  const clear = () => liftRequestDeadline(req);
  req.once('end', clear);
  res.once('close', clear);
}

/** No deadline for this request's body any more. */
export function liftRequestDeadline(req: IncomingMessage): void {
  const timer = deadlines.get(req);
  if (timer === undefined) return;
  clearTimeout(timer);
  deadlines.delete(req);
}
