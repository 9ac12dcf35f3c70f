import { afterAll, describe, expect, it } from 'vitest';
import { resolveConfig } from '../../src/config/config.ts';
import { startGateway } from '../support/gateway.ts';
import { startRedis, stopRedis } from '../support/redis-server.ts';

const redis = await startRedis();
const redisSkip = 'unavailable' in redis ? redis.unavailable : undefined;
if (redisSkip) console.warn(`skipping the Redis readiness case: ${redisSkip}`);

afterAll(async () => {
  if ('process' in redis) await stopRedis(redis.process);
});

describe('/ready', () => {
  it.skipIf(redisSkip !== undefined)('is ready while the shared Redis answers, and not once it is gone', async () => {
    if (!('url' in redis)) return;
    const gw = await startGateway({ builtin: 'test:///default' }, 'builtin', { redis: { url: redis.url } });
    try {
      const up = await gw.app.yoga.fetch('http://localhost/ready');
      expect(up.status).toBe(200);
      expect(await up.json()).toMatchObject({ ready: true, redis: 'up', connected: 1 });
      await stopRedis(redis.process);
      const down = await gw.app.yoga.fetch('http://localhost/ready');
      expect(down.status).toBe(503);
      expect(await down.json()).toMatchObject({ ready: false, redis: 'down', connected: 1 });
    } finally {
      await gw.close();
    }
  });

  it('is not ready while the app stops, so the load balancer drains it first', async () => {
    const gw = await startGateway({ builtin: 'test:///default' });
    await gw.app.start();
    expect((await gw.app.yoga.fetch('http://localhost/ready')).status).toBe(200);
    const stopped = gw.close();
    const res = await gw.app.yoga.fetch('http://localhost/ready');
    expect(res.status).toBe(503);
    expect(await res.json()).toMatchObject({ ready: false, serving: false });
    await stopped;
  });

  it('with ready.minHosts 0 is ready whatever the hosts do', async () => {
    const gw = await startGateway({ gone: 'qemu+tcp://127.0.0.1:1/system' }, 'gone', {
      config: { ready: { minHosts: 0, hostNames: true } },
    });
    try {
      const res = await gw.app.yoga.fetch('http://localhost/ready');
      expect(res.status).toBe(200);
      expect(await res.json()).toMatchObject({ ready: true, connected: 0, hosts: [{ name: 'gone', state: 'down' }] });
    } finally {
      await gw.close();
    }
  });

  it('refuses ready.minHosts above the hosts configured', async () => {
    await expect(
      resolveConfig({ ready: { minHosts: 3 } }, { env: { VIRTQL_HOSTS: 'a=test:///default' } }),
    ).rejects.toThrow('ready.minHosts: is 3, but only 1 host is configured');
  });
});
