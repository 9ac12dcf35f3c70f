import { buildBenchGateway } from './bench-gateway.ts';
import { load } from './gateway-http.ts';

const gw = await buildBenchGateway({ default: 'test:///default' });
const url = (await gw.app.start()) as unknown as string;
const target = typeof url === 'string' ? url : `http://127.0.0.1:${(gw.app as never as { port: number }).port}/graphql`;
console.log('url', target);
await load(target, '{ hosts { name } }', 1);
const r = await load(target, '{ hosts { name } }', 5);
console.log('req/s', r.requests.average);
await gw.app.stop?.();
process.exit(0);
