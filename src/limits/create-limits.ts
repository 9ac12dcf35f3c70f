import type { Plugin } from 'graphql-yoga';
import type { Logger } from 'pino';
import type { LimitsConfig } from '../config/security-schema.ts';
import type { ConnectGuard, UpgradeGuard } from '../events/graphql-ws-server.ts';
import { createMemorySlots, createRedisSlots } from './subscription-slots.ts';
import { useArmor } from './use-armor.ts';
import { useBodyLimit } from './use-body-limit.ts';
import { useCostExtension } from './use-cost-extension.ts';
import { useListCost } from './use-list-cost.ts';
import { useNoIntrospection } from './use-no-introspection.ts';
import { useNodeIdsLimit } from './use-node-ids-limit.ts';
import { useRateLimit } from './use-rate-limit.ts';
import { useSubscriptionCap } from './use-subscription-cap.ts';
import { createWebSocketLimits, type WebSocketLimits } from './websocket-limits.ts';
import { createMemoryCounter, createRedisCounter } from './window-counter.ts';

export interface LimitsOptions {
  limits: LimitsConfig;
  introspection: boolean;
  /** Set when replicas share Redis: the rate-limit counters and subscription places then live there. */
  redisUrl?: string;
  logger?: Logger;
}

/** Everything the limits configure, for yoga and for the graphql-ws server. */
export interface Limits {
  plugins: Plugin[];
  /** yoga's `maxRequestBodySize`. */
  maxRequestBodySize: number;
  /** The graphql-ws message limit (the config keeps it within the HTTP body limit). */
  maxPayload: number;
  upgradeGuards: UpgradeGuard[];
  connectGuards: ConnectGuard[];
  /** How long graphql-ws waits for connection_init (the WebSocket limits close the socket then too). */
  connectionInitWaitMs: number;
  /** What the WebSocket limits hold now. */
  webSockets: WebSocketLimits['held'];
  close(): Promise<void>;
}

export function createLimits({ limits, introspection, redisUrl, logger }: LimitsOptions): Limits {
  const counter = redisUrl ? createRedisCounter(redisUrl) : createMemoryCounter();
  const slots = redisUrl ? createRedisSlots(redisUrl) : createMemorySlots();
  const log = logger ? { logger } : {};
  const sockets = createWebSocketLimits(limits);
  return {
    plugins: [
      useBodyLimit(limits),
      useArmor(limits),
      useListCost(limits),
      useCostExtension(limits),
      ...(introspection ? [] : [useNoIntrospection()]),
      useRateLimit({ ...limits.rateLimit, counter, ...log }),
      useSubscriptionCap({ ...limits, slots, ...log }),
      useNodeIdsLimit(limits),
    ],
    maxRequestBodySize: limits.bodyBytes,
    maxPayload: limits.webSocketMessageBytes,
    upgradeGuards: [sockets.upgradeGuard],
    connectGuards: [sockets.connectGuard],
    connectionInitWaitMs: limits.webSocketInitSeconds * 1000,
    webSockets: sockets.held,
    close: async () => {
      await Promise.all([counter.close(), slots.close()]);
    },
  };
}
