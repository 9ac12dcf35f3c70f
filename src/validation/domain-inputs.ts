import { z } from 'zod';
import { inputObject, mustBe, reasonCheck, whenFieldsValid, withoutNulls } from './graphql-input.ts';

/** 4 MiB: below this no guest firmware boots. */
export const MIN_MEMORY_KIB = 4096n;
/** 16 TiB in KiB. */
export const MAX_MEMORY_KIB = 16n * 1024n ** 3n;
export const MAX_VCPUS = 4096;

/** Memory in KiB as the GraphQL BigInt scalar gives it: 4 MiB to 16 TiB. */
export const memoryKiB = z
  .bigint({ error: mustBe('a whole number of KiB') })
  .min(MIN_MEMORY_KIB, `must be at least ${MIN_MEMORY_KIB} KiB (4 MiB)`)
  .max(MAX_MEMORY_KIB, `must be at most ${MAX_MEMORY_KIB} KiB (16 TiB)`);

const VCPU_RULE = `must be an integer from 1 to ${MAX_VCPUS}`;

/** A vCPU count from 1 to 4096. */
export const vcpuCount = z
  .number({ error: mustBe(`a vCPU count (${VCPU_RULE.replace('must be ', '')})`) })
  .int({ error: VCPU_RULE })
  .min(1, VCPU_RULE)
  .max(MAX_VCPUS, VCPU_RULE);

export const BOOT_DEVICES = ['hd', 'fd', 'cdrom', 'network'] as const;
export const MAX_BOOT_DEVICES = 3;

export const bootDevice = z.enum(BOOT_DEVICES, { error: `must be one of ${BOOT_DEVICES.join(', ')}` });

function repeated(devices: readonly string[]): string | undefined {
  for (const device of new Set(devices)) {
    const count = devices.filter((d) => d === device).length;
    if (count > 1) return `lists ${device} ${count === 2 ? 'twice' : `${count} times`}`;
  }
  return undefined;
}

/** Boot order: at most 3 of hd, fd, cdrom, network, none repeated. */
export const bootDevices = z
  .array(bootDevice, { error: mustBe('a list of boot devices') })
  .max(MAX_BOOT_DEVICES, `may list at most ${MAX_BOOT_DEVICES} devices`)
  .superRefine((devices, ctx) => {
    const message = repeated(devices);
    if (message !== undefined) ctx.addIssue({ code: 'custom', message, input: devices });
  });

/** Architectures libvirt's qemu driver knows; `arch` accepts any name of the same form. */
export const KNOWN_ARCHES = ['x86_64', 'i686', 'aarch64', 'ppc64le', 's390x', 'armv7l', 'riscv64'] as const;

/** A CPU architecture name as libvirt spells it (x86_64, aarch64…); the host decides whether it runs it. */
export const arch = z
  .string({ error: mustBe('an architecture name (a string such as x86_64)') })
  .min(1, { error: 'must not be empty', abort: true })
  .max(32, { error: 'must be at most 32 characters', abort: true })
  .regex(
    /^[a-z0-9_]+$/,
    `must be an architecture such as ${KNOWN_ARCHES.slice(0, 3).join(', ')}: lower-case letters, digits and "_"`,
  );

/** A machine type: q35, pc-i440fx-8.2, virt. */
export const machine = z
  .string({ error: mustBe('a machine type (a string such as q35)') })
  .min(1, { error: 'must not be empty', abort: true })
  .max(64, { error: 'must be at most 64 characters', abort: true })
  .regex(
    /^[a-z0-9._-]+$/,
    'must be a machine type such as q35 or pc-i440fx-8.2: lower-case letters, digits, ".", "_" and "-"',
  );

/** A guest disk name: vda, sdb, hdc, xvda, fda (up to three letters after the prefix). */
export const diskTargetDevice = z
  .string({ error: mustBe('a disk target device (a string such as vda)') })
  .regex(
    /^(?:vd|sd|hd|xvd|fd)[a-z]{1,3}$/,
    'must be a disk target such as vda, sdb or hdc: vd, sd, hd, xvd or fd followed by 1 to 3 lower-case letters',
  );

/** A NIC's host-side device name: vnet0, tap-web1. */
export const nicTargetDevice = z
  .string({ error: mustBe('a NIC target device (a string such as vnet0)') })
  .regex(/^[A-Za-z0-9_.-]{1,15}$/, 'must be 1 to 15 letters, digits, "_", "." or "-", e.g. vnet0');

export const DISK_BUSES = ['virtio', 'scsi', 'sata', 'ide', 'usb', 'xen', 'fdc', 'sd'] as const;

export const diskBus = z.enum(DISK_BUSES, { error: `must be one of ${DISK_BUSES.join(', ')}` });

/** PATH_MAX, terminating NUL included. */
const PATH_MAX = 4096;

function pathProblem(path: string): string | undefined {
  if (!path.startsWith('/')) return 'must be an absolute path, starting with "/"';
  if (path.includes('\0')) return 'must not contain a NUL character';
  if (path.split('/').includes('..')) return 'must not contain ".." segments';
  if (path.length >= PATH_MAX) return `must be shorter than ${PATH_MAX} characters`;
  return undefined;
}

/** An absolute path on the host: starts with "/", no NUL, no ".." segments. */
export const absolutePath = z
  .string({ error: mustBe('an absolute path (a string starting with "/")') })
  .superRefine(reasonCheck(pathProblem));

// Characters XML 1.0 cannot carry, even escaped: libvirt would refuse the document.
// biome-ignore lint/suspicious/noControlCharactersInRegex: matching control characters is this pattern's purpose
const XML_UNSAFE = /[\u0000-\u0008\u000b\u000c\u000e-\u001f\ufffe\uffff]|\p{Cs}/u;

export const MAX_DESCRIPTION_LENGTH = 4096;

/** Free text stored in the domain XML: at most 4096 characters, none that XML cannot carry. */
export const domainDescription = z
  .string({ error: mustBe('a string') })
  .max(MAX_DESCRIPTION_LENGTH, { error: `must be at most ${MAX_DESCRIPTION_LENGTH} characters`, abort: true })
  .refine((text) => !XML_UNSAFE.test(text), 'must not contain control characters other than tab and newline');

/** configureDomain: changes to the persistent config; at least one of them. */
export const configureDomainInput = withoutNulls(
  inputObject({
    vcpus: vcpuCount.optional(),
    maxMemoryKiB: memoryKiB.optional(),
    description: domainDescription.optional(),
  }).superRefine((input, ctx) => {
    if (input.vcpus === undefined && input.maxMemoryKiB === undefined && input.description === undefined) {
      ctx.addIssue({
        code: 'custom',
        message: 'must change at least one of vcpus, maxMemoryKiB or description',
        input,
      });
    }
  }, whenFieldsValid),
);
export type ConfigureDomainInput = z.infer<typeof configureDomainInput>;
