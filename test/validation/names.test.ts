import { describe, expect, it } from 'vitest';
import {
  dnsDomainName,
  domainName,
  interfaceName,
  networkName,
  poolName,
  volumeName,
} from '../../src/validation/index.ts';
import { firstIssue, parsed } from './first-issue.ts';

describe.each([
  ['domainName', domainName],
  ['networkName', networkName],
  ['poolName', poolName],
  ['volumeName', volumeName],
])('%s', (_name, schema) => {
  it.each(['a', 'web-01', 'db_primary', 'disk.qcow2', '0day', '_private', 'A'.repeat(64)])('accepts %s', (name) => {
    expect(parsed(schema, name)).toBe(name);
  });

  it.each<[string, unknown, string]>([
    ['empty', '', 'must not be empty'],
    ['65 characters', 'a'.repeat(65), 'must be at most 64 characters, not 65'],
    ['a space', 'my vm', 'may contain only letters, digits, "-", "_" and "."'],
    ['a slash', 'a/b', 'may contain only letters, digits, "-", "_" and "."'],
    ['non-ASCII letters', 'café', 'may contain only letters, digits, "-", "_" and "."'],
    ['a leading "-"', '-vm', 'must not start with "-" or "."'],
    ['a leading "."', '.hidden', 'must not start with "-" or "."'],
    ['".."', '..', 'must not start with "-" or "."'],
    ['a number', 42, 'must be a'],
    ['nothing', undefined, 'is required'],
  ])('rejects %s', (_label, value, message) => {
    const issue = firstIssue(schema, value);
    expect(issue.path).toBe('');
    expect(issue.message).toContain(message);
  });
});

describe('interfaceName', () => {
  it.each(['eth0', 'br0', 'enp3s0f1', 'virbr-lan.10', 'x'.repeat(15)])('accepts %s', (name) => {
    expect(parsed(interfaceName, name)).toBe(name);
  });

  it.each<[string, string, string]>([
    ['empty', '', 'must not be empty'],
    ['16 characters', 'x'.repeat(16), "must be at most 15 characters (the kernel's limit), not 16"],
    ['a slash', 'eth/0', 'must not contain "/", ":", whitespace or control characters'],
    ['a colon', 'eth0:1', 'must not contain "/", ":", whitespace or control characters'],
    ['a space', 'eth 0', 'must not contain "/", ":", whitespace or control characters'],
    ['a tab', 'eth\t0', 'must not contain "/", ":", whitespace or control characters'],
    ['a control character', 'eth\u00010', 'must not contain "/", ":", whitespace or control characters'],
    ['"."', '.', 'must not be "." or ".."'],
    ['".."', '..', 'must not be "." or ".."'],
  ])('rejects %s', (_label, value, message) => {
    expect(firstIssue(interfaceName, value)).toEqual({ path: '', message });
  });
});

describe('dnsDomainName', () => {
  it.each(['lan', 'example.lan', 'vm-1.example.com', `${'a'.repeat(63)}.com`])('accepts %s', (name) => {
    expect(parsed(dnsDomainName, name)).toBe(name);
  });

  it.each<[string, string, string]>([
    ['empty', '', 'must not be empty'],
    ['a trailing dot', 'example.lan.', 'must be a DNS domain name such as example.lan'],
    ['an empty label', 'example..lan', 'must be a DNS domain name such as example.lan'],
    ['a label starting with "-"', '-x.lan', 'must be a DNS domain name such as example.lan'],
    ['a label ending with "-"', 'x-.lan', 'must be a DNS domain name such as example.lan'],
    ['an underscore', 'my_lan', 'must be a DNS domain name such as example.lan'],
    ['a 64-character label', `${'a'.repeat(64)}.com`, 'has a label of 64 characters; each may have at most 63'],
    ['254 characters', `${'a.'.repeat(126)}ab`, 'must be at most 253 characters, not 254'],
  ])('rejects %s', (_label, value, message) => {
    expect(firstIssue(dnsDomainName, value)).toEqual({ path: '', message: expect.stringContaining(message) });
  });
});
