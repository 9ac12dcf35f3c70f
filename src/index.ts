// Until the GraphQL gateway lands, `npm start` shows the binding at work on libvirt's test driver.
import { Connection } from './libvirt/index.ts';

const uri = process.env.VIRTQL_URI ?? 'test:///default';
const c = await Connection.open(uri);
try {
  const [hostname, type, lib, node] = await Promise.all([
    c.hostname(),
    c.hypervisorType(),
    c.libVersion(),
    c.nodeInfo(),
  ]);
  console.log(`virtql: connected to ${uri} (${type} on ${hostname}, libvirt ${lib.text})`);
  console.log(`  host: ${node.cpus} CPUs ${node.model} @ ${node.mhz} MHz, ${node.memoryKiB} KiB`);
  for (const d of await c.domains()) {
    const info = await d.info();
    console.log(`  domain ${d.name} ${d.uuid} ${info.state} vcpus=${info.vcpus} memory=${info.memoryKiB} KiB`);
  }
  for (const n of await c.networks()) console.log(`  network ${n.name} active=${await n.isActive()}`);
  for (const p of await c.storagePools()) {
    const info = await p.info();
    console.log(`  pool ${p.name} ${info.state} ${info.availableBytes}/${info.capacityBytes} bytes free`);
  }
} finally {
  await c.close();
}
