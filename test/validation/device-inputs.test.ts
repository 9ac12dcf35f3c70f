import { describe, expect, it } from 'vitest';
import type { InterfaceSpec } from '../../src/libvirt/xml/domain-spec-xml.ts';
import { attachNetworkInput, diskFormat } from '../../src/validation/index.ts';
import { firstIssue, parsed } from './first-issue.ts';

describe('diskFormat', () => {
  it.each(['raw', 'qcow2', 'vmdk', 'vdi'])('accepts %s', (format) => {
    expect(parsed(diskFormat, format)).toBe(format);
  });
  it.each<[string, unknown, string]>([
    ['upper case', 'QCOW2', 'must be an image format such as raw or qcow2'],
    ['a path', '../raw', 'lower-case letters and digits'],
    ['empty', '', 'must be an image format'],
    ['17 characters', 'a'.repeat(17), 'must be an image format'],
    ['a number', 2, 'must be an image format (a string such as qcow2)'],
  ])('rejects %s', (_label, value, message) => {
    expect(firstIssue(diskFormat, value).message).toContain(message);
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
