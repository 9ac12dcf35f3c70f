import { afterEach, expect, it } from 'vitest';
import { startGateway, type TestGateway } from '../support/gateway.ts';

const MISSING_SOCKET = '/nonexistent/virtql-test/libvirt-sock';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

it('says why a host is unreachable on the first request, not only on the next one', async () => {
  gw = await startGateway({ builtin: 'test:///default', down: `qemu+unix:///system?socket=${MISSING_SOCKET}` });
  const res = await gw.query<{ hosts: Array<{ name: string; connected: boolean; lastError: string | null }> }>(
    '{ hosts { name connected lastError } }',
  );
  expect(res.errors).toBeUndefined();
  const [builtin, down] = res.data?.hosts ?? [];
  expect(builtin).toEqual({ name: 'builtin', connected: true, lastError: null });
  expect(down?.connected).toBe(false);
  expect(down?.lastError).toContain(MISSING_SOCKET);
});

it('tries the connection when only lastError is asked for', async () => {
  gw = await startGateway({ down: `qemu+unix:///system?socket=${MISSING_SOCKET}` });
  const res = await gw.query<{ host: { lastError: string | null } }>('{ host { lastError } }');
  expect(res.data?.host.lastError).toContain(MISSING_SOCKET);
});
