import { Connection } from '../src/libvirt/index.ts';
import { measureBindingCalls, reportBindingCalls } from './binding-calls.ts';
import { measureBindingMemory, reportBindingMemory } from './binding-memory.ts';
import { describeEnvironment } from './environment.ts';
import { measureEventLatency, reportEventLatency } from './event-latency.ts';
import { seconds } from './format.ts';

const URI = 'test:///default';

async function withConnection<T>(run: (c: Connection) => Promise<T>): Promise<T> {
  const c = await Connection.open(URI);
  try {
    return await run(c);
  } finally {
    await c.close();
  }
}

function print(lines: string[]): void {
  console.log(`${lines.join('\n')}\n`);
}

const started = performance.now();
print(await withConnection(describeEnvironment));
// Memory first: the other benchmarks would otherwise grow V8's young generation and malloc's
// arenas beforehand, hiding growth behind their leftovers (or showing theirs as shrinkage).
print(reportBindingMemory(await withConnection(measureBindingMemory)));
print(reportBindingCalls(await withConnection(measureBindingCalls)));
print(reportEventLatency(await withConnection(measureEventLatency)));
// Loaded only now: the schema, yoga and their caches would otherwise sit in the heap the binding benchmarks measure.
const { measureGatewayInventory, measureLargeGatewayInventory, reportGatewayInventory, reportLargeGatewayInventory } =
  await import('./gateway-inventory.ts');
const { measureGatewayHttp, reportGatewayHttp } = await import('./gateway-http.ts');
const { measureAuthCost, reportAuthCost } = await import('./gateway-auth.ts');
const { measureGatewaySubscriptions, reportGatewaySubscriptions } = await import('./gateway-subscriptions.ts');
const { measureMetricsScrape, reportMetricsScrape } = await import('./metrics-scrape.ts');
const { LIBVIRTD_INVENTORIES, measureLibvirtdInventory, reportLibvirtdInventory } = await import(
  './libvirtd-inventory.ts'
);
const { measureHostSafetyCost, reportHostSafetyCost } = await import('./host-safety-cost.ts');
const { measureVolumeTransfer, reportVolumeTransfer } = await import('./volume-transfer.ts');
const { measureStorageThroughput, reportStorageThroughput } = await import('./storage-throughput.ts');
print(reportGatewayInventory(await measureGatewayInventory()));
print(reportLargeGatewayInventory(await measureLargeGatewayInventory()));
const { measureFieldCost, reportFieldCost } = await import('./field-cost.ts');
print(reportFieldCost(await measureFieldCost()));
// Starts the test harness's private libvirtd and stops it again; prints why when it cannot run here.
for (const { domains, repeats } of LIBVIRTD_INVENTORIES) {
  print(reportLibvirtdInventory(await measureLibvirtdInventory(domains, repeats), domains));
}
print(reportGatewayHttp(await measureGatewayHttp()));
print(reportAuthCost(await measureAuthCost()));
print(reportGatewaySubscriptions(await measureGatewaySubscriptions()));
print(reportMetricsScrape(await measureMetricsScrape()));
print(reportHostSafetyCost(await measureHostSafetyCost()));
// Last: 2 GiB through a private libvirtd, against virsh on the same daemon in the same run.
print(reportVolumeTransfer(await measureVolumeTransfer()));
// A running guest's disk moved and backed up through a private libvirtd, against virsh on the same daemon.
print(reportStorageThroughput(await measureStorageThroughput()));
console.log(`Figures only: no target here fails the run. Total ${seconds(performance.now() - started)}.`);
