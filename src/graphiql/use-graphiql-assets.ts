import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import { pathToFileURL } from 'node:url';
import type { GraphiQLOptions, Plugin } from 'graphql-yoga';

/** What @graphql-yoga/render-graphiql bundles: GraphiQL's script and style, its Monaco workers, a favicon data URL. */
interface GraphiQLBundle {
  js: string;
  css: string;
  favicon: string;
  editorWorkerService: string;
  jsonWorker: string;
  graphqlWorker: string;
}

interface Asset {
  body: string | Uint8Array<ArrayBuffer>;
  type: string;
}

// The package exports only its HTML renderer, which inlines ~9 MB into every page; its parts are
// read from its module instead and served as files the browser caches.
const packageDir = dirname(dirname(createRequire(import.meta.url).resolve('@graphql-yoga/render-graphiql')));
const { version } = JSON.parse(readFileSync(join(packageDir, 'package.json'), 'utf8')) as { version: string };

/** Where the assets are served: public routes (no credentials), behind the gate's Host and Origin checks. The version in the path lets browsers cache them for good. */
export const GRAPHIQL_ASSETS_PATH = `/graphiql/${version}/`;

/** The example query GraphiQL opens with. */
export const DEFAULT_QUERY = `# virtql: GraphQL for libvirt hosts. Run this with Ctrl-Enter (or the ▶ button).
# Credentials go in the Headers tab: { "Authorization": "Bearer vq_…" }
{
  hosts {
    name
    connected
    lastError
    domains {
      name
      state
    }
  }
}
`;

/**
 * The page's options. Unless the operator chose `browser`, GraphiQL's state (its Headers tab, where
 * the bearer token goes) lives in sessionStorage: this tab only, gone when it closes, out of reach of
 * other tabs. What an earlier page left in localStorage is removed: GraphiQL saves headers there.
 */
const TAB_STORAGE = `;function virtqlGraphiQLOptions() {
  const element = document.getElementById('graphiql-options');
  const options = JSON.parse(element.textContent);
  if (element.dataset.credentials === 'browser') return options;
  try {
    for (const key of Object.keys(localStorage)) if (key.startsWith('graphiql:')) localStorage.removeItem(key);
  } catch {}
  return { ...options, storage: window.sessionStorage };
}`;

const workerFiles = { editorWorkerService: 'editor.worker.js', json: 'json.worker.js', graphql: 'graphql.worker.js' };

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

/** Where the page keeps GraphiQL's state, its Headers tab (credentials) included. */
export type GraphiQLCredentials = 'tab' | 'browser';

/** The GraphiQL page: yoga's options in a JSON block, every script and style from {@link GRAPHIQL_ASSETS_PATH}. */
export function renderGraphiQLPage(options: GraphiQLOptions = {}, credentials: GraphiQLCredentials = 'tab'): string {
  const json = JSON.stringify(options).replace(/</g, '\\u003c');
  const base = GRAPHIQL_ASSETS_PATH;
  return `<!doctype html>
<html lang="en">
  <head>
    <meta charset="utf-8" />
    <title>${escapeHtml(options.title ?? 'virtql')}</title>
    <link rel="icon" href="${base}favicon.ico" />
    <link rel="stylesheet" href="${base}graphiql.css" />
  </head>
  <body id="body" class="no-focus-outline">
    <noscript>GraphiQL needs JavaScript.</noscript>
    <div id="root"></div>
    <script type="application/json" id="graphiql-options" data-credentials="${credentials}">${json}</script>
    <script src="${base}graphiql.js"></script>
  </body>
</html>
`;
}

async function loadAssets(): Promise<Map<string, Asset>> {
  const bundle = (await import(pathToFileURL(join(packageDir, 'esm', 'graphiql.js')).href)) as GraphiQLBundle;
  const workers = Object.fromEntries(
    Object.entries(workerFiles).map(([label, file]) => [label, `${GRAPHIQL_ASSETS_PATH}${file}`]),
  );
  // Monaco asks for its workers by label before GraphiQL renders; then the page's options are read and rendered.
  const script = [
    `self.MonacoEnvironment = { globalAPI: false, getWorkerUrl: (_moduleId, label) => (${JSON.stringify(workers)})[label] };`,
    bundle.js,
    TAB_STORAGE,
    `;YogaGraphiQL.renderYogaGraphiQL(document.getElementById('root'), virtqlGraphiQLOptions());`,
  ].join('\n');
  const javascript = 'text/javascript; charset=utf-8';
  const favicon = Uint8Array.from(Buffer.from(bundle.favicon.slice(bundle.favicon.indexOf(',') + 1), 'base64'));
  return new Map<string, Asset>([
    ['graphiql.js', { body: script, type: javascript }],
    ['graphiql.css', { body: bundle.css, type: 'text/css; charset=utf-8' }],
    ['favicon.ico', { body: favicon, type: 'image/x-icon' }],
    [workerFiles.editorWorkerService, { body: bundle.editorWorkerService, type: javascript }],
    [workerFiles.json, { body: bundle.jsonWorker, type: javascript }],
    [workerFiles.graphql, { body: bundle.graphqlWorker, type: javascript }],
  ]);
}

/** A browser opening the GraphQL endpoint: a GET asking for HTML, with no query to run. */
export function isGraphiQLPageRequest(request: Request, url: URL): boolean {
  return (
    request.method === 'GET' && !url.searchParams.has('query') && !!request.headers.get('accept')?.includes('text/html')
  );
}

/**
 * Serves the GraphiQL page at the GraphQL endpoint and its assets from the installed package, so
 * the page works without internet (air-gapped hypervisor networks), and sends `/` to the GraphQL
 * endpoint. They carry no data: they are public routes of the gate (no credentials), which has
 * checked Host and Origin before this runs.
 */
export function useGraphiQLAssets(
  page: GraphiQLOptions,
  graphqlEndpoint = '/graphql',
  credentials: GraphiQLCredentials = 'tab',
): Plugin {
  let assets: Promise<Map<string, Asset>> | undefined;
  return {
    async onRequest({ request, url, endResponse, fetchAPI }) {
      if (request.method !== 'GET' && request.method !== 'HEAD') return;
      if (url.pathname === '/') {
        endResponse(new fetchAPI.Response(null, { status: 302, headers: { location: graphqlEndpoint } }));
        return;
      }
      if (url.pathname === graphqlEndpoint && isGraphiQLPageRequest(request, url)) {
        endResponse(
          new fetchAPI.Response(renderGraphiQLPage(page, credentials), {
            headers: { 'content-type': 'text/html; charset=utf-8' },
          }),
        );
        return;
      }
      if (!url.pathname.startsWith(GRAPHIQL_ASSETS_PATH)) return;
      assets ??= loadAssets();
      const asset = (await assets).get(url.pathname.slice(GRAPHIQL_ASSETS_PATH.length));
      endResponse(
        asset
          ? new fetchAPI.Response(request.method === 'HEAD' ? null : asset.body, {
              headers: {
                'content-type': asset.type,
                'cache-control': 'public, max-age=31536000, immutable',
                'x-content-type-options': 'nosniff',
              },
            })
          : new fetchAPI.Response('not found', { status: 404, headers: { 'content-type': 'text/plain' } }),
      );
    },
  };
}
