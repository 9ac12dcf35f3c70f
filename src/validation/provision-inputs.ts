import { isIP } from 'node:net';
import { z } from 'zod';
import { mustBe, whenFieldsValid, withoutNulls } from './graphql-input.ts';

// Cross-field rules over inputs with more fields than they read: loose objects, so the fields
// they do not name pass through unchanged (a strict object would drop them from the input).
const looseInput = <T extends z.core.$ZodLooseShape>(shape: T) =>
  z.looseObject(shape, { error: mustBe('an input object') });

/** A disk of a typed domain: exactly one source, and a CD-ROM only from an existing volume. */
export const domainDiskInput = withoutNulls(
  looseInput({
    volume: z.unknown().optional(),
    newVolume: z.unknown().optional(),
    linkedClone: z.unknown().optional(),
    device: z.string().optional(),
  }).superRefine((input, ctx) => {
    const given = (['volume', 'newVolume', 'linkedClone'] as const).filter((k) => input[k] !== undefined);
    if (given.length !== 1) {
      ctx.addIssue({
        code: 'custom',
        input,
        message: `needs exactly one of volume, newVolume or linkedClone (got ${given.length === 0 ? 'none' : given.join(' and ')})`,
      });
    } else if (input.device === 'cdrom' && given[0] !== 'volume') {
      ctx.addIssue({ code: 'custom', input, path: ['device'], message: 'a CD-ROM shows an existing volume (volume)' });
    }
  }, whenFieldsValid),
);

/** A display's listen address: an IPv4 or IPv6 address (0.0.0.0 or :: for every address). */
export const listenAddress = z
  .string({ error: mustBe('an IP address (a string)') })
  .refine((a) => isIP(a) !== 0, { message: 'must be an IPv4 or IPv6 address' });

/** A fixed display port: VNC's 5900 and above, within TCP's range. */
export const displayPort = z
  .number({ error: mustBe('a TCP port') })
  .int({ error: 'must be an integer from 5900 to 65535' })
  .min(5900, 'must be an integer from 5900 to 65535')
  .max(65535, 'must be an integer from 5900 to 65535');

/** A display password: VNC keeps 8 characters, so a longer one would open with its first 8. */
export const graphicsInput = withoutNulls(
  looseInput({ type: z.string().optional(), password: z.string().optional() }).superRefine((input, ctx) => {
    const password = input.password;
    if (password === undefined) return;
    if (password.length === 0) {
      ctx.addIssue({ code: 'custom', input, path: ['password'], message: 'must not be empty; leave it out for none' });
    } else if ((input.type ?? 'vnc') === 'vnc' && password.length > 8) {
      ctx.addIssue({
        code: 'custom',
        input,
        path: ['password'],
        message: 'a VNC password is at most 8 characters (VNC ignores the rest)',
      });
    } else if (password.length > 256) {
      ctx.addIssue({ code: 'custom', input, path: ['password'], message: 'must be at most 256 characters' });
    }
  }, whenFieldsValid),
);

/** A CPU model name as libvirt's cpu map spells them (Skylake-Client, EPYC-Rome, qemu64…). */
export const cpuModel = z
  .string({ error: mustBe('a CPU model name') })
  .regex(/^[A-Za-z0-9][A-Za-z0-9_.+-]{0,63}$/, 'must be a CPU model name such as Skylake-Client or EPYC');

/** mode CUSTOM names a model; the host modes take none. */
export const cpuInput = withoutNulls(
  looseInput({ mode: z.string(), model: z.string().optional() }).superRefine((input, ctx) => {
    if (input.mode === 'custom' && input.model === undefined) {
      ctx.addIssue({ code: 'custom', input, path: ['model'], message: 'mode CUSTOM needs a model' });
    }
    if (input.mode !== 'custom' && input.model !== undefined) {
      ctx.addIssue({ code: 'custom', input, path: ['model'], message: 'only mode CUSTOM takes a model' });
    }
  }, whenFieldsValid),
);

/** A kernel command line: at most 4096 characters, on one line. */
export const kernelCmdline = z
  .string({ error: mustBe('a kernel command line (a string)') })
  .max(4096, 'must be at most 4096 characters')
  .refine((s) => !/[\r\n]/.test(s), { message: 'must be one line' });

/** A new volume's size: at least one byte, at most 2^63 - 1. */
export const capacityBytes = z
  .bigint({ error: mustBe('a whole number of bytes') })
  .min(1n, 'must be at least 1 byte')
  .max(2n ** 63n - 1n, 'must be below 2^63 bytes');

/** A cloud-init document: at most 256 KiB (the seed is read whole at boot). */
export const cloudInitText = z.string({ error: mustBe('text') }).max(256 * 1024, 'must be at most 256 KiB');

/** A host name as meta-data local-hostname takes it: RFC 1123 labels, at most 253 characters. */
export const hostName = z
  .string({ error: mustBe('a host name') })
  .max(253, 'must be at most 253 characters')
  .regex(
    /^(?!-)[A-Za-z0-9-]{1,63}(?<!-)(\.(?!-)[A-Za-z0-9-]{1,63}(?<!-))*$/,
    'must be a host name: letters, digits and "-" in dot-separated labels of at most 63',
  );

/** OpenSSH public keys, one a line, as authorized_keys holds them. */
export const sshAuthorizedKeys = z
  .array(
    z
      .string()
      .max(16 * 1024, 'a key must be at most 16 KiB')
      .regex(
        /^(ssh-(rsa|dss|ed25519)|ecdsa-sha2-nistp(256|384|521)|sk-(ssh-ed25519|ecdsa-sha2-nistp256)@openssh\.com) [A-Za-z0-9+/]+=*( [^\r\n]*)?$/,
        'must be one OpenSSH public key (type, base64 and an optional comment, on one line)',
      ),
    { error: mustBe('a list of public keys') },
  )
  .max(100, 'may list at most 100 keys');
