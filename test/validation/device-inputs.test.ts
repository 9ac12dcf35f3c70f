import { describe, expect, it } from 'vitest';
import type { DiskSpec, InterfaceSpec } from '../../src/libvirt/xml/domain-xml.ts';
import { attachDiskInput, attachNetworkInput } from '../../src/validation/index.ts';
import { firstIssue, parsed } from './first-issue.ts';

const disk = { kind: 'file', sourcePath: '/var/lib/libvirt/images/data.qcow2', targetDevice: 'vdb' };

describe('attachDiskInput', () => {
  it.each<[string, object, object]>([
    ['an image file, bus left to inference', disk, disk],
    [
      'a block device on sata, read-only',
      { kind: 'block', sourcePath: '/dev/sdb', targetDevice: 'sdb', bus: 'sata', readonly: true },
      { kind: 'block', sourcePath: '/dev/sdb', targetDevice: 'sdb', bus: 'sata', readonly: true },
    ],
    ['a qcow2 image', { ...disk, format: 'qcow2' }, { ...disk, format: 'qcow2' }],
    ['GraphQL nulls', { ...disk, bus: null, format: null, readonly: null }, disk],
  ])('accepts %s', (_label, input, expected) => {
    const out = parsed(attachDiskInput, input);
    expect(out).toEqual(expected);
    const spec: DiskSpec = { ...out, targetDev: out.targetDevice };
    expect(spec.kind).toBe(out.kind);
  });

  it.each<[string, unknown, string, string]>([
    ['an unknown kind', { ...disk, kind: 'network' }, 'kind', 'must be one of file, block'],
    ['a relative path', { ...disk, sourcePath: 'data.qcow2' }, 'sourcePath', 'must be an absolute path'],
    ['a ".." path', { ...disk, sourcePath: '/var/../etc/passwd' }, 'sourcePath', 'must not contain ".." segments'],
    ['a bad target', { ...disk, targetDevice: 'vdb1' }, 'targetDevice', 'must be a disk target such as vda'],
    ['an unknown bus', { ...disk, bus: 'nvme' }, 'bus', 'must be one of virtio, scsi'],
    ['a bad format', { ...disk, format: 'QCOW2' }, 'format', 'must be an image format such as raw or qcow2'],
    ['no path', { kind: 'file', targetDevice: 'vdb' }, 'sourcePath', 'is required'],
  ])('rejects %s', (_label, value, path, message) => {
    const issue = firstIssue(attachDiskInput, value);
    expect(issue.path).toBe(path);
    expect(issue.message).toContain(message);
  });
});

describe('attachNetworkInput', () => {
  it.each<[string, object, object]>([
    ['a virtual network', { kind: 'network', source: 'default' }, { kind: 'network', source: 'default' }],
    [
      'a bridge with a MAC, model and target',
      { kind: 'bridge', source: 'br0', mac: '52:54:00:AB:CD:EF', model: 'virtio', targetDevice: 'tap-web1' },
      { kind: 'bridge', source: 'br0', mac: '52:54:00:ab:cd:ef', model: 'virtio', targetDevice: 'tap-web1' },
    ],
    [
      'a network name too long for a bridge',
      { kind: 'network', source: 'a-long-network-name' },
      { kind: 'network', source: 'a-long-network-name' },
    ],
  ])('accepts %s', (_label, input, expected) => {
    const out = parsed(attachNetworkInput, input);
    expect(out).toEqual(expected);
    const spec: InterfaceSpec = { ...out, type: out.kind, targetDev: out.targetDevice };
    expect(spec.source).toBe(out.source);
  });

  it.each<[string, unknown, string, string]>([
    ['an unknown kind', { kind: 'direct', source: 'eth0' }, 'kind', 'must be one of network, bridge'],
    ['a bad network name', { kind: 'network', source: 'my net' }, 'source', 'may contain only letters, digits'],
    [
      'a bridge name over 15 characters',
      { kind: 'bridge', source: 'a-long-bridge-name' },
      'source',
      'must be at most 15 characters',
    ],
    [
      'a multicast MAC',
      { kind: 'network', source: 'default', mac: '01:00:00:00:00:01' },
      'mac',
      'is a multicast address',
    ],
    ['a bad model', { kind: 'network', source: 'default', model: 'virtio net' }, 'model', 'must be a NIC model'],
    ['a bad target', { kind: 'network', source: 'default', targetDevice: 'vnet/0' }, 'targetDevice', 'must be 1 to 15'],
  ])('rejects %s', (_label, value, path, message) => {
    const issue = firstIssue(attachNetworkInput, value);
    expect(issue.path).toBe(path);
    expect(issue.message).toContain(message);
  });
});
