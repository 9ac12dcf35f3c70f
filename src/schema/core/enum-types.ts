import { builder } from './builder.ts';

/**
 * An enum whose values are libvirt's attribute values in lower case: `{ FILE: 'An image file.' }`
 * is the GraphQL value FILE, which resolvers receive as 'file' (a disk's type, a NIC's type, a
 * boot device…).
 */
export function lowerCaseEnum<const V extends Record<string, string>>(name: string, description: string, values: V) {
  const entries = Object.entries(values).map(([key, text]) => [key, { value: key.toLowerCase(), description: text }]);
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
