import { LibvirtError } from '../../libvirt/index.ts';
import { invalidInput } from './errors.ts';

/** An object of the kind being defined, as the host lists it (visible to the caller or not). */
export interface Existing {
  name: string;
  uuid: string;
}

const bare = (uuid: string) => uuid.replaceAll('-', '').toLowerCase();

/**
 * Refuses a document whose UUID another object of its kind already has, before libvirt is asked:
 * libvirt's answer ("domain 'x' is already defined with uuid …") names that object, which the
 * caller may not be allowed to see. The answer names no one, visible or not.
 */
export function refuseUsedUuid(uuid: string | undefined, existing: readonly Existing[]): void {
  if (uuid !== undefined && existing.some((o) => bare(o.uuid) === bare(uuid))) {
    throw invalidInput('xml', 'UUID already in use');
  }
}

/**
 * A define's or create's failure without the name or UUID of any other object of the kind: the
 * same conflicts can reach libvirt in a race with another client, and libvirt's messages
 * (virDomainObjListAdd, virNetworkObjAssignDef, virStoragePoolObjIsDuplicate and
 * virStoragePoolObjSourceFindDuplicate) quote the object they collide with.
 */
export function withoutOtherNames(kind: string, own: string, existing: readonly Existing[]) {
  return (e: unknown): never => {
    if (!(e instanceof LibvirtError)) throw e;
    if (/is already defined with uuid/i.test(e.message)) throw invalidInput('xml', 'UUID already in use');
    if (/already exists with uuid/i.test(e.message)) {
      throw invalidInput('xml', `a ${kind} named ${own} already exists`);
    }
    if (/source conflict with pool/i.test(e.message)) {
      throw invalidInput('xml', 'its source is already used by another storage pool');
    }
    const names = existing.filter((o) => o.name !== own);
    const text = e.message.toLowerCase();
    if (names.some((o) => e.message.includes(`'${o.name}'`) || text.includes(o.uuid.toLowerCase()))) {
      throw invalidInput('xml', `conflicts with another ${kind} of the host`);
    }
    throw e;
  };
}
