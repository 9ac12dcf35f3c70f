import { readFile } from 'node:fs/promises';
import { buildSchema, getNamedType, isInputObjectType, isNonNullType, isObjectType } from 'graphql';
import { describe, expect, it } from 'vitest';

const schema = buildSchema(await readFile(new URL('../../schema/schema.graphql', import.meta.url), 'utf8'));

describe('one API style (schema/schema.graphql)', () => {
  // cancelOperation, switchMigrationToPostCopy and createStreamTicket have no host: an operation id
  // names one operation of the whole gateway, and a stream ticket's document names its hosts itself.
  it('every mutation takes one argument, input: <Mutation>Input!, holding host', () => {
    const odd = Object.values(schema.getMutationType()?.getFields() ?? {}).flatMap((field) => {
      const [arg, ...more] = field.args;
      const expected = `${field.name.charAt(0).toUpperCase()}${field.name.slice(1)}Input`;
      const type = arg && isNonNullType(arg.type) ? arg.type.ofType : undefined;
      const ok =
        more.length === 0 &&
        arg?.name === 'input' &&
        isInputObjectType(type) &&
        type.name === expected &&
        ('host' in type.getFields() ||
          ['cancelOperation', 'switchMigrationToPostCopy', 'createStreamTicket'].includes(field.name));
      return ok ? [] : [field.name];
    });
    expect(odd).toEqual([]);
  });

  it('lists and connections of a host are narrowed by one filter argument of the same type', () => {
    const host = schema.getType('Host');
    if (!isObjectType(host)) throw new Error('no Host type');
    const fields = host.getFields();
    const filterOf = (name: string) =>
      fields[name]?.args.map((a) => `${a.name}: ${a.type}`).find((a) => a.startsWith('filter'));
    expect(filterOf('domains')).toBe('filter: DomainFilter');
    expect(filterOf('domainConnection')).toBe('filter: DomainFilter');
    expect(filterOf('networks')).toBe('filter: NetworkFilter');
    expect(filterOf('networkConnection')).toBe('filter: NetworkFilter');
    expect(filterOf('storagePools')).toBe('filter: StoragePoolFilter');
    expect(filterOf('interfaces')).toBe('filter: InterfaceFilter');
    const pool = schema.getType('StoragePool');
    if (!isObjectType(pool)) throw new Error('no StoragePool type');
    for (const name of ['volumes', 'volumeConnection']) {
      expect(
        pool
          .getFields()
          [name]?.args.find((a) => a.name === 'filter')
          ?.type.toString(),
      ).toBe('VolumeFilter');
    }
    for (const name of ['domains', 'networks', 'storagePools', 'interfaces']) {
      expect(fields[name]?.args.map((a) => a.name)).toEqual(['filter']);
    }
  });
  it('every mutation field is nullable (partial success), and clientMutationId is taken exactly where a payload echoes it', () => {
    const fields = Object.values(schema.getMutationType()?.getFields() ?? {});
    expect(fields.filter((f) => isNonNullType(f.type)).map((f) => f.name)).toEqual([]);
    const odd = fields.flatMap((field) => {
      const input = getNamedType(field.args[0]?.type);
      const result = getNamedType(field.type);
      const takes = isInputObjectType(input) && 'clientMutationId' in input.getFields();
      const echoes = isObjectType(result) && 'clientMutationId' in result.getFields();
      return takes === echoes ? [] : [field.name];
    });
    expect(odd).toEqual([]);
  });

  it('every mutation that removes an object answers its deletedId', () => {
    // deleteStoragePool deletes a pool's storage and keeps the pool defined: it answers the pool.
    const removing = Object.values(schema.getMutationType()?.getFields() ?? {}).filter(
      (f) => /^(undefine|delete)/.test(f.name) && f.name !== 'deleteStoragePool',
    );
    expect(removing.length).toBeGreaterThanOrEqual(6);
    const without = removing.filter((f) => {
      const result = getNamedType(f.type);
      return !(isObjectType(result) && 'deletedId' in result.getFields());
    });
    expect(without.map((f) => f.name)).toEqual([]);
  });
});
