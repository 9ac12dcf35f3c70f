import type { Plugin } from 'graphql-yoga';
import { collectDefaultMetrics, Registry } from 'prom-client';
import type { AuthService } from '../auth/auth-service.ts';
import type { MetricsConfig } from '../config/security-schema.ts';
import { collectBindingMetrics } from './binding-metrics.ts';
import { collectEventMetrics, type EventSources } from './event-metrics.ts';
import { collectHostMetrics, type HostStatusSource } from './host-metrics.ts';
import { HostSampler, type HostSamplerOptions } from './host-sampler.ts';
import { collectHypervisorMetrics } from './hypervisor-metrics.ts';
import { type MetricsServer, serveMetrics } from './metrics-server.ts';
import { type MetricsRefusalListener, useMetricsEndpoint } from './use-metrics-endpoint.ts';
import { useOperationMetrics } from './use-operation-metrics.ts';

export interface MetricsOptions extends EventSources {
  config: MetricsConfig;
  hosts: HostStatusSource & HostSamplerOptions['hosts'];
  auth: AuthService;
  /** Told of each /metrics request refused 401 or 403 on the GraphQL port (the access log's line). */
  onRefused?: MetricsRefusalListener;
}

export interface GatewayMetrics {
  /** This app's own registry: several apps in one process do not share metrics. */
  registry: Registry;
  /** The yoga plugins: operation metrics, and /metrics itself unless it has its own address. */
  plugins: Plugin[];
  /** The separate /metrics address once started (config metrics.listen). */
  url(): string | undefined;
  start(): Promise<void>;
  /** Stops the separate listener and the binding-call timing. Idempotent. */
  close(): Promise<void>;
}

/** The gateway's own metrics and the hosts' libvirt metrics, on a private registry. */
export function createMetrics(options: MetricsOptions): GatewayMetrics {
  const { config } = options;
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const offBinding = collectBindingMetrics(registry);
  const offHosts = collectHostMetrics(registry, options.hosts);
  collectEventMetrics(registry, options);
  const sampler = new HostSampler({
    hosts: options.hosts,
    maxAgeSeconds: config.maxAgeSeconds,
    hostTimeoutSeconds: config.hostTimeoutSeconds,
  });
  collectHypervisorMetrics(registry, sampler, config.stateDescriptions);
  // A change libvirt reports shows in the next scrape, however young the sample.
  const offEvents = options.events.onHostEvent?.((host) => sampler.invalidate(host));
  let server: MetricsServer | undefined;
  let closing: Promise<void> | undefined;
  return {
    registry,
    plugins: [
      useOperationMetrics(registry, {
        max: config.maxOperationNames,
        ...(config.operationNames ? { known: config.operationNames } : {}),
      }),
      ...(config.listen === undefined ? [useMetricsEndpoint(registry, options.auth, options.onRefused)] : []),
    ],
    url: () => server?.url,
    async start() {
      if (config.listen !== undefined && server === undefined) server = await serveMetrics(registry, config.listen);
    },
    close() {
      closing ??= (async () => {
        offBinding();
        offHosts();
        offEvents?.();
        await server?.close();
      })();
      return closing;
    },
  };
}
