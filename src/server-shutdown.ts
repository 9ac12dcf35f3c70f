import type { Server } from 'node:http';
import type { Socket } from 'node:net';

/**
 * Tracks the server's connections so close() ends them as soon as they have nothing to send:
 * idle keep-alive sockets and sockets a client opened ahead without a request (fetch does that
 * after an aborted SSE stream) at once, busy ones when their last response ends. Node's
 * closeIdleConnections() misses the latter two, and the server's close would wait for the
 * client's keep-alive timeout.
 */
export function trackConnections(server: Server): { close(): Promise<void> } {
  const inFlight = new Map<Socket, number>();
  let closing = false;
  server.on('connection', (socket: Socket) => {
    inFlight.set(socket, 0);
    socket.once('close', () => inFlight.delete(socket));
  });
  server.on('request', (req, res) => {
    const socket = req.socket;
    inFlight.set(socket, (inFlight.get(socket) ?? 0) + 1);
    res.once('close', () => {
      const left = (inFlight.get(socket) ?? 1) - 1;
      inFlight.set(socket, left);
      if (closing && left === 0) socket.destroy();
    });
  });
  return {
    close: () =>
      new Promise<void>((resolve) => {
        closing = true;
        server.close(() => resolve());
        for (const [socket, requests] of inFlight) if (requests === 0) socket.destroy();
      }),
  };
}
