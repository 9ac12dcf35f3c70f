import type { IncomingMessage } from 'node:http';
import type { Plugin } from 'graphql-yoga';
import type { Registry } from 'prom-client';
import type { AuthService } from '../auth/auth-service.ts';
import { refusalResponse } from '../security/refusal-response.ts';
import { refuseMetrics } from './metrics-access.ts';

export const METRICS_PATH = '/metrics';

export type MetricsRefusalListener = (
  request: Request,
  refusal: { status: number; code: string; message: string },
  req: IncomingMessage | undefined,
) => void;

/** GET /metrics on the GraphQL port, for callers refuseMetrics lets through. */
export function useMetricsEndpoint(registry: Registry, auth: AuthService, onRefused?: MetricsRefusalListener): Plugin {
  return {
    async onRequest({ request, url, serverContext, endResponse, fetchAPI }) {
      if (url.pathname !== METRICS_PATH) return;
      if (request.method !== 'GET' && request.method !== 'HEAD') {
        endResponse(new fetchAPI.Response(null, { status: 405, headers: { allow: 'GET, HEAD' } }));
        return;
      }
      const req = (serverContext as { req?: IncomingMessage }).req;
      const refusal = await refuseMetrics(auth, request, req);
      if (refusal) {
        onRefused?.(request, { status: refusal.status, code: refusal.code ?? '', message: refusal.message ?? '' }, req);
        endResponse(refusalResponse(fetchAPI, refusal));
        return;
      }
      endResponse(
        new fetchAPI.Response(await registry.metrics(), {
          status: 200,
          headers: { 'content-type': registry.contentType },
        }),
      );
    },
  };
}
