import { describe, expect, it } from 'vitest';
import {
  absolutePath,
  arch,
  bootDevices,
  configureDomainInput,
  diskBus,
  diskTargetDevice,
  domainDescription,
  machine,
  memoryKiB,
  nicTargetDevice,
  vcpuCount,
} from '../../src/validation/index.ts';
import { firstIssue, parsed } from './first-issue.ts';

type Rejection = [label: string, value: unknown, path: string, message: string];

function rejects(schema: Parameters<typeof firstIssue>[0], rows: Rejection[]) {
  it.each(rows)('rejects %s', (_label, value, path, message) => {
    const issue = firstIssue(schema, value);
    expect(issue.path).toBe(path);
    expect(issue.message).toContain(message);
  });
}

describe('memoryKiB', () => {
  it.each([4096n, 524288n, 17179869184n])('accepts %s', (kib) => {
    expect(parsed(memoryKiB, kib)).toBe(kib);
  });
  rejects(memoryKiB, [
    ['4095 KiB', 4095n, '', 'must be at least 4096 KiB (4 MiB)'],
    ['zero', 0n, '', 'must be at least 4096 KiB (4 MiB)'],
    ['negative', -1n, '', 'must be at least 4096 KiB'],
    ['16 TiB and 1 KiB', 17179869185n, '', 'must be at most 17179869184 KiB (16 TiB)'],
    ['a JS number', 524288, '', 'must be a whole number of KiB'],
    ['a string', '524288', '', 'must be a whole number of KiB'],
  ]);
});

describe('vcpuCount', () => {
  it.each([1, 2, 4096])('accepts %d', (n) => {
    expect(parsed(vcpuCount, n)).toBe(n);
  });
  rejects(vcpuCount, [
    ['zero', 0, '', 'must be an integer from 1 to 4096'],
    ['4097', 4097, '', 'must be an integer from 1 to 4096'],
    ['a fraction', 1.5, '', 'must be an integer from 1 to 4096'],
    ['a string', '2', '', 'must be a vCPU count (an integer from 1 to 4096)'],
  ]);
});

describe('bootDevices', () => {
  it.each<[string[]]>([[[]], [['hd']], [['cdrom', 'hd']], [['network', 'cdrom', 'hd']], [['fd']]])(
    'accepts %j',
    (devices) => {
      expect(parsed(bootDevices, devices)).toEqual(devices);
    },
  );
  rejects(bootDevices, [
    ['four devices', ['hd', 'cdrom', 'network', 'fd'], '', 'may list at most 3 devices'],
    ['a repeat', ['cdrom', 'hd', 'cdrom'], '', 'lists cdrom twice'],
    ['three of one', ['hd', 'hd', 'hd'], '', 'lists hd 3 times'],
    ['an unknown device', ['hd', 'usb'], '1', 'must be one of hd, fd, cdrom, network'],
    ['upper case', ['HD'], '0', 'must be one of hd, fd, cdrom, network'],
    ['a single device, not a list', 'hd', '', 'must be a list of boot devices'],
  ]);
});

describe('arch', () => {
  it.each(['x86_64', 'i686', 'aarch64', 'ppc64le', 's390x', 'armv7l', 'riscv64', 'loongarch64'])('accepts %s', (a) => {
    expect(parsed(arch, a)).toBe(a);
  });
  rejects(arch, [
    ['empty', '', '', 'must not be empty'],
    ['upper case', 'X86_64', '', 'must be an architecture such as x86_64, i686, aarch64'],
    ['a dash', 'x86-64', '', 'lower-case letters, digits and "_"'],
    ['33 characters', 'a'.repeat(33), '', 'must be at most 32 characters'],
  ]);
});

describe('machine', () => {
  it.each(['pc', 'q35', 'pc-i440fx-8.2', 'pc-q35-rhel9.4.0', 'virt', 's390-ccw-virtio'])('accepts %s', (m) => {
    expect(parsed(machine, m)).toBe(m);
  });
  rejects(machine, [
    ['empty', '', '', 'must not be empty'],
    ['upper case', 'Q35', '', 'must be a machine type such as q35 or pc-i440fx-8.2'],
    ['a space', 'pc q35', '', 'must be a machine type'],
    ['65 characters', 'a'.repeat(65), '', 'must be at most 64 characters'],
  ]);
});

describe('diskTargetDevice', () => {
  it.each(['vda', 'vdb', 'sdaa', 'hdc', 'xvda', 'fda', 'vdzzz'])('accepts %s', (t) => {
    expect(parsed(diskTargetDevice, t)).toBe(t);
  });
  rejects(diskTargetDevice, [
    ['no letter', 'vd', '', 'must be a disk target such as vda, sdb or hdc'],
    ['four letters', 'vdaaaa', '', 'followed by 1 to 3 lower-case letters'],
    ['a partition', 'vda1', '', 'must be a disk target'],
    ['an unknown prefix', 'nvme0n1', '', 'vd, sd, hd, xvd or fd'],
    ['upper case', 'VDA', '', 'must be a disk target'],
  ]);
});

describe('nicTargetDevice', () => {
  it.each(['vnet0', 'tap-web1', 'macvtap0', 'a.b_c', 'x'.repeat(15)])('accepts %s', (t) => {
    expect(parsed(nicTargetDevice, t)).toBe(t);
  });
  rejects(nicTargetDevice, [
    ['empty', '', '', 'must be 1 to 15 letters, digits, "_", "." or "-", e.g. vnet0'],
    ['16 characters', 'x'.repeat(16), '', 'must be 1 to 15 letters'],
    ['a slash', 'vnet/0', '', 'must be 1 to 15 letters'],
  ]);
});

describe('diskBus', () => {
  it.each(['virtio', 'scsi', 'sata', 'ide', 'usb', 'xen', 'fdc', 'sd'])('accepts %s', (bus) => {
    expect(parsed(diskBus, bus)).toBe(bus);
  });
  rejects(diskBus, [
    ['nvme', 'nvme', '', 'must be one of virtio, scsi, sata, ide, usb, xen, fdc, sd'],
    ['upper case', 'VIRTIO', '', 'must be one of virtio'],
  ]);
});

describe('absolutePath', () => {
  it.each(['/', '/var/lib/libvirt/images/a.qcow2', '/dev/sdb', '/srv/a..b/c', '/srv/.hidden/x'])('accepts %s', (p) => {
    expect(parsed(absolutePath, p)).toBe(p);
  });
  rejects(absolutePath, [
    ['a relative path', 'images/a.qcow2', '', 'must be an absolute path, starting with "/"'],
    ['empty', '', '', 'must be an absolute path'],
    ['a NUL', '/var/a\0b', '', 'must not contain a NUL character'],
    ['a ".." segment', '/var/lib/../../etc/shadow', '', 'must not contain ".." segments'],
    ['a trailing ".."', '/var/..', '', 'must not contain ".." segments'],
    ['4096 characters', `/${'a'.repeat(4095)}`, '', 'must be shorter than 4096 characters'],
  ]);
});

describe('domainDescription', () => {
  it.each(['', 'web server', 'line one\nline two\ttabbed', 'ünïcødé ✓'])('accepts %j', (text) => {
    expect(parsed(domainDescription, text)).toBe(text);
  });
  rejects(domainDescription, [
    ['a NUL', 'a\0b', '', 'must not contain control characters other than tab and newline'],
    ['an escape', 'a\u001b[31m', '', 'must not contain control characters'],
    ['a lone surrogate', 'a\ud800b', '', 'must not contain control characters'],
    ['4097 characters', 'a'.repeat(4097), '', 'must be at most 4096 characters'],
  ]);
});

describe('configureDomainInput', () => {
  it.each<[string, object, object]>([
    ['vcpus alone', { vcpus: 2 }, { vcpus: 2 }],
    ['maxMemoryKiB, a null description', { maxMemoryKiB: 1048576n, description: null }, { maxMemoryKiB: 1048576n }],
    ['an emptied description', { description: '' }, { description: '' }],
  ])('accepts %s', (_label, input, out) => {
    expect(parsed(configureDomainInput, input)).toEqual(out);
  });

  rejects(configureDomainInput, [
    ['nothing to change', {}, '', 'must change at least one of vcpus, maxMemoryKiB or description'],
    ['only nulls', { vcpus: null, maxMemoryKiB: null }, '', 'must change at least one of'],
    ['too much memory', { maxMemoryKiB: 17179869185n }, 'maxMemoryKiB', 'must be at most 17179869184 KiB (16 TiB)'],
  ]);
});
