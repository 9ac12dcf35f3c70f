/** Maps each number of a libvirt enum to its name; the first name wins where libvirt aliases a value. */
export function invert<T extends Readonly<Record<string, number>>>(values: T): ReadonlyMap<number, keyof T & string> {
  const byValue = new Map<number, keyof T & string>();
  for (const [name, value] of Object.entries(values)) {
    if (!byValue.has(value)) byValue.set(value, name as keyof T & string);
  }
  return byValue;
}

/** The name of a value of a libvirt enum (the first where libvirt aliases it), or UNKNOWN for a value this build does not know. */
export function nameOf<T extends Readonly<Record<string, number>>>(
  values: T,
): (value: number) => (keyof T & string) | 'UNKNOWN' {
  const byValue = invert(values);
  return (value) => byValue.get(value) ?? 'UNKNOWN';
}

/** A generated table's members under `prefix`, named without it (`VIR_DOMAIN_RUNNING` → `RUNNING`), in the table's order. */
export type Unprefixed<T, P extends string> = {
  readonly [K in keyof T as K extends `${P}${infer Rest}` ? Rest : never]: T[K];
};

export function members<T extends Readonly<Record<string, number | string>>, P extends string>(
  table: T,
  prefix: P,
): Unprefixed<T, P> {
  const out: Record<string, number | string> = {};
  for (const [name, value] of Object.entries(table)) {
    if (name.startsWith(prefix)) out[name.slice(prefix.length)] = value;
  }
  return out as Unprefixed<T, P>;
}

/** The named members of a table, in the order given: where the code wants a subset of libvirt's enum. */
export function pick<T extends object, K extends keyof T & string>(table: T, names: readonly K[]): Pick<T, K> {
  const out = {} as Pick<T, K>;
  for (const name of names) {
    if (!(name in table)) throw new Error(`no member ${name}`);
    out[name] = table[name];
  }
  return out;
}
