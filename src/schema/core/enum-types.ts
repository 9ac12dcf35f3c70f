import { builder } from './builder.ts';

/**
 * An enum whose values are libvirt's attribute values in lower case: `{ FILE: 'An image file.' }`
 * is the GraphQL value FILE, which resolvers receive as 'file' (a disk's type, a NIC's type, a
 * boot device…).
 */
export function lowerCaseEnum<const V extends Record<string, string>>(name: string, description: string, values: V) {
  const entries = Object.entries(values).map(([key, text]) => [key, { value: attributeValue(key), description: text }]);
  return builder.enumType(name, {
    description,
    values: Object.fromEntries(entries) as { [K in keyof V & string]: { value: Lowercase<K>; description: string } },
  });
}

/**
 * An enum whose values are the names of a libvirt table (virDomainState, virKeycodeSet…), each
 * with its description: `descriptions` lists every name (its type is the table's names, so a name
 * the table gains fails the type check until it is described).
 */
export function describedEnum<const K extends string>(
  name: string,
  description: string,
  descriptions: Readonly<Record<K, string>>,
) {
  const values = Object.fromEntries(
    (Object.keys(descriptions) as K[]).map((k) => [k, { value: k, description: descriptions[k] }]),
  ) as { [P in K]: { value: P; description: string } };
  return builder.enumType(name, { description, values });
}

/** The libvirt attribute value of an enum name: lower case, `_` for libvirt's `-` (EGL_HEADLESS: egl-headless). */
function attributeValue(key: string): string {
  return key.toLowerCase().replaceAll('_', '-');
}

/**
 * A libvirt attribute value as a value of a lowerCaseEnum over `values`, or null for one the
 * gateway does not know (an output never fails on what a newer libvirt writes).
 */
export function knownAttribute<V extends Record<string, string>>(values: V, value: string | null | undefined) {
  if (value == null) return null;
  return Object.keys(values).some((key) => attributeValue(key) === value) ? (value as never) : null;
}

/** A libvirt table name (FILE, IPV4…) as a value of a describedEnum over `values`, or null when unknown. */
export function knownName<V extends Record<string, string>>(values: V, name: string | null | undefined) {
  return name != null && Object.hasOwn(values, name) ? (name as never) : null;
}

/** An IP address family, as libvirt's `family` attributes write it. */
export const IP_FAMILIES = { IPV4: 'IPv4.', IPV6: 'IPv6.' } as const;
export const IpFamily = lowerCaseEnum('IpFamily', 'An IP address family.', IP_FAMILIES);

/** libvirt's `<os><type>` values: what kind of guest a definition or capability is for. */
export const OS_TYPES = {
  HVM: 'A fully virtualized machine (QEMU/KVM, Xen HVM).',
  XEN: 'A Xen paravirtualized guest.',
  XENPVH: 'A Xen PVH guest.',
  LINUX: 'A Xen paravirtualized Linux guest (the older name for xen).',
  EXE: 'A container or process (LXC, OpenVZ).',
  UML: 'A user-mode Linux guest.',
} as const;
export const OsType = lowerCaseEnum(
  'OsType',
  'What kind of guest OS a definition runs (libvirt’s `<os><type>`).',
  OS_TYPES,
);
