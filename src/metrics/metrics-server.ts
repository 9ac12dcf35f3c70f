import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';

/** `127.0.0.1:9464` or `[::1]:9464` → hostname and port. */
export function parseListen(listen: string): { hostname: string; port: number } {
  const at = listen.lastIndexOf(':');
  return { hostname: listen.slice(0, at).replace(/^\[|\]$/g, ''), port: Number(listen.slice(at + 1)) };
}

export interface MetricsServer {
  /** http://host:port/metrics, as bound (port 0 picks a free one). */
  url: string;
  close(): Promise<void>;
}

/**
 * /metrics alone on its own address, for anyone who can reach it: bind it where only the
 * Prometheus servers can (loopback, a management network).
 */
export async function serveMetrics(registry: Registry, listen: string): Promise<MetricsServer> {
  const { hostname, port } = parseListen(listen);
  const server: Server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://metrics').pathname;
    if (path !== '/metrics' || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('only GET /metrics here\n');
      return;
    }
    registry.metrics().then(
      (text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`${String(e)}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, hostname, resolve);
  });
  const bound = server.address() as AddressInfo;
  const host = bound.family === 'IPv6' ? `[${bound.address}]` : bound.address;
  return {
    url: `http://${host}:${bound.port}/metrics`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
