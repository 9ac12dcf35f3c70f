/** Maps each number of a libvirt enum to its name; the first name wins where libvirt aliases a value. */
export function invert<T extends Readonly<Record<string, number>>>(values: T): ReadonlyMap<number, keyof T & string> {
  const byValue = new Map<number, keyof T & string>();
  for (const [name, value] of Object.entries(values)) {
    if (!byValue.has(value)) byValue.set(value, name as keyof T & string);
  }
  return byValue;
}
