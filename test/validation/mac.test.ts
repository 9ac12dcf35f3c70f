import { describe, expect, it } from 'vitest';
import { macAddress } from '../../src/validation/index.ts';
import { firstIssue, parsed } from './first-issue.ts';

describe('macAddress', () => {
  it.each<[string, string]>([
    ['52:54:00:12:34:56', '52:54:00:12:34:56'],
    ['52:54:00:AB:cd:EF', '52:54:00:ab:cd:ef'],
    ['FE:FF:FF:FF:FF:FF', 'fe:ff:ff:ff:ff:ff'],
    ['02:00:00:00:00:01', '02:00:00:00:00:01'],
  ])('accepts %s as %s', (mac, normalised) => {
    expect(parsed(macAddress, mac)).toBe(normalised);
  });

  it.each<[string, unknown, string]>([
    ['dashes', '52-54-00-12-34-56', 'must be six hex pairs separated by ":", e.g. 52:54:00:12:34:56'],
    ['five pairs', '52:54:00:12:34', 'must be six hex pairs separated by ":"'],
    ['seven pairs', '52:54:00:12:34:56:78', 'must be six hex pairs separated by ":"'],
    ['single digits', '52:54:0:12:34:56', 'must be six hex pairs separated by ":"'],
    ['no separators', '525400123456', 'must be six hex pairs separated by ":"'],
    ['a non-hex digit', '52:54:00:12:34:5g', 'must be six hex pairs separated by ":"'],
    ['a multicast address', '01:00:5e:00:00:01', 'is a multicast address (its first octet, 01, is odd)'],
    ['broadcast', 'FF:FF:FF:FF:FF:FF', 'is a multicast address (its first octet, ff, is odd)'],
    ['all zeros', '00:00:00:00:00:00', 'must not be all zeros'],
    ['nothing', undefined, 'is required'],
  ])('rejects %s', (_label, value, message) => {
    expect(firstIssue(macAddress, value)).toEqual({ path: '', message: expect.stringContaining(message) });
  });
});
