import { z } from 'zod';
import { absolutePath, domainDescription } from './domain-inputs.ts';
import { inputObject, mustBe, whenFieldsValid, withoutNulls } from './graphql-input.ts';

/** A UUID as libvirt prints it: 32 hex digits in groups of 8-4-4-4-12. */
export const secretUuid = z
  .string({ error: mustBe('a UUID (a string)') })
  .regex(/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/, {
    error: 'must be a UUID such as 6a0ea9c4-4a53-4a10-9d0e-6c8b2b8d3f21',
  });

/** A Ceph user, iSCSI target, TLS or vTPM name: printable, no control characters, at most 256 characters. */
const usageName = z
  .string({ error: mustBe('a name (a string)') })
  .min(1, 'must not be empty')
  .max(256, 'must be at most 256 characters')
  .regex(/^[^\p{Cc}]+$/u, 'must not contain control characters');

/** The element of a usage each type needs: a volume path, an iSCSI target or a name; NONE needs none. */
const USAGE_FIELD = {
  none: undefined,
  volume: 'volume',
  iscsi: 'target',
  ceph: 'name',
  tls: 'name',
  vtpm: 'name',
} as const;

/** defineSecret's usage: exactly the field its type needs. */
export const secretUsageInput = withoutNulls(
  inputObject({
    type: z.enum(['none', 'volume', 'ceph', 'iscsi', 'tls', 'vtpm'], {
      error: 'must be one of NONE, VOLUME, CEPH, ISCSI, TLS, VTPM',
    }),
    volume: absolutePath.optional(),
    target: usageName.optional(),
    name: usageName.optional(),
  }).superRefine((input, ctx) => {
    const needed = USAGE_FIELD[input.type];
    for (const field of ['volume', 'target', 'name'] as const) {
      if (field === needed && input[field] === undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `is required for usage ${input.type.toUpperCase()}`,
          input,
        });
      } else if (field !== needed && input[field] !== undefined) {
        ctx.addIssue({
          code: 'custom',
          path: [field],
          message: `is not used by usage ${input.type.toUpperCase()}`,
          input,
        });
      }
    }
  }, whenFieldsValid),
);

/** A secret's description: free text as in a domain's. */
export const secretDescription = domainDescription;
