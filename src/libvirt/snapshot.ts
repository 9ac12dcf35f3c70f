import type { Domain } from './domain.ts';
import { DomainSnapshotDeleteFlags, DomainSnapshotListFlags, DomainSnapshotRevertFlags } from './enums.ts';
import { invoke } from './errors.ts';
import { flagsOf } from './flags.ts';
import { native, type RawSnapshot, type SnapshotHandle } from './native.ts';

export type SnapshotRevertFlag = 'RUNNING' | 'PAUSED' | 'FORCE';
export type SnapshotDeleteFlag = 'CHILDREN' | 'CHILDREN_ONLY';

/** A snapshot as listed with its document: enough to build the whole tree without a handle per snapshot. */
export interface SnapshotDetail {
  name: string;
  xml: string;
  current: boolean;
}

/** A domain snapshot (virDomainSnapshotPtr): identified by its name within its domain. */
export class DomainSnapshot {
  readonly name: string;
  readonly #handle: SnapshotHandle;

  constructor(
    readonly domain: Domain,
    raw: RawSnapshot,
  ) {
    this.#handle = raw.handle;
    this.name = raw.name;
  }

  /** virDomainSnapshotGetXMLDesc: the snapshot document (see formatsnapshot.html). */
  xml(): Promise<string> {
    return invoke(() => native.domainSnapshotGetXMLDesc(this.#handle, 0));
  }

  /** virDomainSnapshotGetParent: fails with NO_DOMAIN_SNAPSHOT for a root snapshot. */
  async parent(): Promise<DomainSnapshot> {
    return new DomainSnapshot(this.domain, await invoke(() => native.domainSnapshotGetParent(this.#handle)));
  }

  isCurrent(): Promise<boolean> {
    return invoke(() => native.domainSnapshotIsCurrent(this.#handle));
  }

  /** virDomainSnapshotListAllChildren: the direct children, or every descendant with `descendants`. */
  async children(options: { descendants?: boolean } = {}): Promise<DomainSnapshot[]> {
    const flags = options.descendants ? DomainSnapshotListFlags.DESCENDANTS : 0;
    const raws = await invoke(() => native.domainSnapshotListAllChildren(this.#handle, flags));
    return raws.map((raw) => new DomainSnapshot(this.domain, raw));
  }

  /** virDomainRevertToSnapshot: RUNNING or PAUSED choose the state after revert; FORCE allows risky reverts. */
  revert(flags: readonly SnapshotRevertFlag[] = []): Promise<void> {
    return invoke(() => native.domainRevertToSnapshot(this.#handle, flagsOf(DomainSnapshotRevertFlags, flags)));
  }

  /** virDomainSnapshotDelete: this snapshot, with its CHILDREN too, or only its children (CHILDREN_ONLY). */
  delete(flags: readonly SnapshotDeleteFlag[] = []): Promise<void> {
    return invoke(() => native.domainSnapshotDelete(this.#handle, flagsOf(DomainSnapshotDeleteFlags, flags)));
  }
}
