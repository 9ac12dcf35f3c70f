import { z } from 'zod';
import { mustBe, reasonCheck } from './graphql-input.ts';

const EXAMPLE = '52:54:00:12:34:56';

function unicastProblem(mac: string): string | undefined {
  const first = mac.slice(0, 2);
  if (Number.parseInt(first, 16) % 2 === 1) {
    return `is a multicast address (its first octet, ${first}, is odd); a NIC needs a unicast address such as ${EXAMPLE}`;
  }
  if (mac === '00:00:00:00:00:00') return `must not be all zeros; give a unicast address such as ${EXAMPLE}`;
  return undefined;
}

/** A unicast MAC address, six hex pairs separated by ":", normalised to lower case. */
export const macAddress = z
  .string({ error: mustBe(`a MAC address (a string such as ${EXAMPLE})`) })
  .regex(/^[0-9A-Fa-f]{2}(?::[0-9A-Fa-f]{2}){5}$/, {
    error: `must be six hex pairs separated by ":", e.g. ${EXAMPLE}`,
    abort: true,
  })
  .toLowerCase()
  .superRefine(reasonCheck(unicastProblem));
