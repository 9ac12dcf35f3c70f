import { afterEach, describe, expect, it } from 'vitest';
import { GRAPHIQL_ASSETS_PATH } from '../../src/graphiql/use-graphiql-assets.ts';
import { apiToken } from '../auth/auth-clients.ts';
import { startGateway, type TestGateway } from '../support/gateway.ts';

let gw: TestGateway | undefined;
afterEach(async () => {
  await gw?.close();
  gw = undefined;
});

const html = { accept: 'text/html' };
const get = (path: string, headers: Record<string, string> = {}) =>
  (gw as TestGateway).app.yoga.fetch(`http://localhost${path}`, { headers, redirect: 'manual' });

describe('with identities configured', () => {
  it('serves the page and its assets without credentials, and nothing of the endpoint', async () => {
    const token = apiToken('ci');
    gw = await startGateway({ default: 'test:///default' }, 'default', { config: { auth: { tokens: [token.entry] } } });
    const page = await get('/graphql', html);
    expect(page.status).toBe(200);
    expect(await page.text()).toContain(`${GRAPHIQL_ASSETS_PATH}graphiql.js`);
    for (const file of ['graphiql.js', 'graphiql.css', 'favicon.ico', 'json.worker.js']) {
      const asset = await get(`${GRAPHIQL_ASSETS_PATH}${file}`);
      expect(asset.status, file).toBe(200);
      expect(asset.headers.get('cache-control')).toContain('immutable');
      expect((await asset.arrayBuffer()).byteLength).toBeGreaterThan(100);
    }
    expect((await get(`${GRAPHIQL_ASSETS_PATH}nothing.js`)).status).toBe(404);
    // A query on the endpoint still needs credentials.
    const query = await get('/graphql?query=%7Bhosts%7Bname%7D%7D', { 'x-graphql-yoga-csrf': '1' });
    expect(query.status).toBe(401);
  });
});

describe('without identities', () => {
  it('redirects / to GraphiQL and shows no yoga landing page anywhere', async () => {
    gw = await startGateway({ default: 'test:///default' });
    const root = await get('/', html);
    expect(root.status).toBe(302);
    expect(root.headers.get('location')).toBe('/graphql');
    const elsewhere = await get('/nothing-here', html);
    expect(elsewhere.status).toBe(404);
    const body = await elsewhere.text();
    expect(body).not.toMatch(/yoga|version/i);
  });

  it('serves neither page nor assets with graphiql: false', async () => {
    gw = await startGateway({ default: 'test:///default' }, 'default', { config: { graphiql: false } });
    const page = await get('/graphql', html);
    expect(await page.text()).not.toContain('<html');
    expect((await get(`${GRAPHIQL_ASSETS_PATH}graphiql.js`)).status).toBe(404);
    expect((await get('/', html)).status).toBe(404);
  });
});
