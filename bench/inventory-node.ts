import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildDomainXml, buildNetworkXml } from '../src/libvirt/xml/index.ts';
import { buildXml, buildXmlNodes, element, parseDocument } from '../src/libvirt/xml/xml-codec.ts';

const TEST_NS = 'http://libvirt.org/schemas/domain/test/1.0';
const SHUTOFF = 5;
const POOL = 'bench-pool';
const POOL_PATH = '/bench-pool';
export const NETWORK = 'bench-net';
const GiB = 2n ** 30n;

export interface InventoryNode {
  uri: string;
  domains: number;
  remove(): Promise<void>;
}

const volumeName = (i: number) => `disk-${String(i).padStart(4, '0')}.img`;
const volumePath = (i: number) => `${POOL_PATH}/${volumeName(i)}`;

function mac(i: number): string {
  const hex = (n: number) => n.toString(16).padStart(2, '0');
  return `52:54:00:${hex((i >> 16) & 0xff)}:${hex((i >> 8) & 0xff)}:${hex(i & 0xff)}`;
}

// Fixed UUIDs: libvirt would draw new ones for every connection's copy of the node.
const uuid = (i: number) => `b0000000-0000-4000-8000-${i.toString(16).padStart(12, '0')}`;

function domainXml(i: number): string {
  const memoryKiB = BigInt(256 + (i % 8) * 128) * 1024n;
  const xml = buildDomainXml({
    type: 'test',
    name: `vm-${String(i).padStart(4, '0')}`,
    uuid: uuid(i),
    memoryKiB,
    currentMemoryKiB: i % 3 === 0 ? memoryKiB / 2n : memoryKiB,
    vcpus: 1 + (i % 4),
    arch: 'x86_64',
    disks: [{ kind: 'file', sourcePath: volumePath(i), targetDev: 'vda' }],
    interfaces: [{ type: 'network', source: NETWORK, mac: mac(i) }],
  });
  // The test driver reads a domain's initial state from its own namespace; without it every domain runs.
  const { nodes, root } = parseDocument(xml, 'domain');
  root.setAttr('xmlns:test', TEST_NS);
  if (i % 2 === 1) root.content.push(element('test:runstate', {}, SHUTOFF));
  return buildXmlNodes(nodes);
}

function poolXml(volumes: number): string {
  return buildXml(
    element('pool', { type: 'dir' }, [
      element('name', {}, POOL),
      element('target', {}, [element('path', {}, POOL_PATH)]),
      ...Array.from({ length: volumes }, (_, i) =>
        element('volume', { type: 'file' }, [
          element('name', {}, volumeName(i)),
          element('capacity', { unit: 'bytes' }, BigInt(1 + (i % 16)) * GiB),
          element('allocation', { unit: 'bytes' }, GiB / 4n),
          element('target', {}, [element('path', {}, volumePath(i))]),
        ]),
      ),
    ]),
  );
}

function hostXml(): string {
  return buildXml(
    element('cpu', {}, [
      element('mhz', {}, 2400),
      element('model', {}, 'x86_64'),
      element('active', {}, 16),
      element('max', {}, 16),
      element('numa', {}, [
        element('nodes', {}, 1),
        element('sockets', {}, 1),
        element('cores', {}, 8),
        element('threads', {}, 2),
      ]),
    ]),
  );
}

/** A libvirt test-driver node document: `test:///<file>` gives each connection its own copy. */
export function inventoryNodeXml(domains: number): string {
  return [
    '<node>',
    hostXml(),
    buildXml(element('memory', {}, 2 ** 26)),
    poolXml(domains),
    buildNetworkXml({
      name: NETWORK,
      forwardMode: 'nat',
      bridgeName: 'virbr-bench',
      ip: { address: '10.77.0.1', netmask: '255.255.0.0' },
      dhcpRange: { start: '10.77.0.2', end: '10.77.255.254' },
    }),
    ...Array.from({ length: domains }, (_, i) => domainXml(i)),
    '</node>',
    '',
  ].join('\n');
}

export async function writeInventoryNode(domains: number): Promise<InventoryNode> {
  const dir = await mkdtemp(join(tmpdir(), 'virtql-bench-inventory-'));
  const file = join(dir, 'node.xml');
  await writeFile(file, inventoryNodeXml(domains));
  return { uri: `test://${file}`, domains, remove: () => rm(dir, { recursive: true, force: true }) };
}
