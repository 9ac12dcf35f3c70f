import type { Connection } from '../libvirt/index.ts';

/** What the schema needs of the host registry: named libvirt connections. */
export interface HostSource {
  readonly defaultName: string;
  names(): string[];
  has(name: string): boolean;
  uri(name: string): string;
  connection(name: string): Promise<Connection>;
  status(name: string): { connected: boolean; lastError?: string };
}

/** Per-request context. Loaders hang off it through Pothos' context caches, so they live per request. */
export interface GatewayContext {
  hosts: HostSource;
}
