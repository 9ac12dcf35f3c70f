import { z } from 'zod';
import { mustBe, reasonCheck } from './graphql-input.ts';

export const NAME_MAX_LENGTH = 64;
/** IFNAMSIZ - 1: the kernel's limit on a network interface name. */
export const INTERFACE_NAME_MAX_LENGTH = 15;

/** A libvirt object name: 1–64 ASCII letters, digits, "-", "_" or ".", not starting with "-" or ".". */
function objectName(kind: string) {
  return z
    .string({ error: mustBe(`a ${kind} name (a string)`) })
    .min(1, { error: 'must not be empty', abort: true })
    .max(NAME_MAX_LENGTH, {
      error: (issue) => `must be at most ${NAME_MAX_LENGTH} characters, not ${String(issue.input).length}`,
      abort: true,
    })
    .regex(/^[A-Za-z0-9._-]+$/, { error: 'may contain only letters, digits, "-", "_" and "."', abort: true })
    .regex(/^[A-Za-z0-9_]/, 'must not start with "-" or "."');
}

export const domainName = objectName('domain');
export const networkName = objectName('network');
export const poolName = objectName('storage pool');
export const volumeName = objectName('volume');
export const snapshotName = objectName('snapshot');

/** A host network interface name as the kernel accepts it (dev_valid_name): eth0, br0, enp3s0. */
export const interfaceName = z
  .string({ error: mustBe('an interface name (a string)') })
  .min(1, { error: 'must not be empty', abort: true })
  .max(INTERFACE_NAME_MAX_LENGTH, {
    error: (issue) =>
      `must be at most ${INTERFACE_NAME_MAX_LENGTH} characters (the kernel's limit), not ${String(issue.input).length}`,
    abort: true,
  })
  .regex(/^[^/:\s\p{Cc}]+$/u, { error: 'must not contain "/", ":", whitespace or control characters', abort: true })
  .refine((name) => name !== '.' && name !== '..', 'must not be "." or ".."');

const DNS_LABEL = /^[A-Za-z0-9](?:[A-Za-z0-9-]*[A-Za-z0-9])?$/;

function dnsNameProblem(name: string): string | undefined {
  if (name.length > 253) return `must be at most 253 characters, not ${name.length}`;
  const labels = name.split('.');
  const long = labels.find((label) => label.length > 63);
  if (long !== undefined) return `has a label of ${long.length} characters; each may have at most 63`;
  if (!labels.every((label) => DNS_LABEL.test(label))) {
    return 'must be a DNS domain name such as example.lan: labels of letters, digits and "-" (not at either end), joined by "."';
  }
  return undefined;
}

/** A DNS domain name without the trailing dot: example.lan, vm.example.com. */
export const dnsDomainName = z
  .string({ error: mustBe('a DNS domain name (a string)') })
  .min(1, { error: 'must not be empty', abort: true })
  .superRefine(reasonCheck(dnsNameProblem));
