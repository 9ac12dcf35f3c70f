import { Counter, Gauge, type Registry } from 'prom-client';
import type { HostRegistryEvents } from '../hosts/host-registry.ts';

/** What the host metrics read of the host registry. */
export interface HostStatusSource {
  names(): string[];
  status(name: string): { connected: boolean };
  on<E extends keyof HostRegistryEvents>(event: E, listener: HostRegistryEvents[E]): () => void;
}

/** Whether each host's connection is open, and how often it dropped and came back. Returns the function that stops counting. */
export function collectHostMetrics(registry: Registry, hosts: HostStatusSource): () => void {
  new Gauge({
    name: 'virtql_host_connected',
    help: 'Whether the gateway holds an open libvirt connection to the host (1) or not (0).',
    labelNames: ['host'] as const,
    registers: [registry],
    collect() {
      for (const host of hosts.names()) this.set({ host }, hosts.status(host).connected ? 1 : 0);
    },
  });
  const disconnects = new Counter({
    name: 'virtql_host_disconnects_total',
    help: 'Times the libvirt connection to the host was lost.',
    labelNames: ['host'] as const,
    registers: [registry],
  });
  const reconnects = new Counter({
    name: 'virtql_host_reconnects_total',
    help: 'Times a libvirt connection to the host was opened again after the first.',
    labelNames: ['host'] as const,
    registers: [registry],
  });
  for (const host of hosts.names()) {
    disconnects.inc({ host }, 0);
    reconnects.inc({ host }, 0);
  }
  const opened = new Set<string>();
  const offs = [
    hosts.on('connected', (host) => {
      if (opened.has(host)) reconnects.inc({ host });
      opened.add(host);
    }),
    hosts.on('disconnected', (host) => disconnects.inc({ host })),
  ];
  return () => {
    for (const off of offs) off();
  };
}
