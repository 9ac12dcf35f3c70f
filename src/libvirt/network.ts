import type { Connection } from './connection.ts';
import { NetworkXMLFlags } from './enums.ts';
import { invoke, invokeMany, type LibvirtError } from './errors.ts';
import { type NetworkHandle, native, type RawNetwork } from './native.ts';

/** A virtual network (virNetworkPtr). */
export class Network {
  readonly name: string;
  readonly uuid: string;
  readonly #handle: NetworkHandle;

  constructor(
    readonly connection: Connection,
    raw: RawNetwork,
  ) {
    this.#handle = raw.handle;
    this.name = raw.name;
    this.uuid = raw.uuid;
  }

  xml(options: { inactive?: boolean } = {}): Promise<string> {
    return invoke(() => native.networkGetXMLDesc(this.#handle, options.inactive ? NetworkXMLFlags.INACTIVE : 0));
  }

  /** xml() of many networks in one binding call. */
  static xmlMany(networks: readonly Network[]): Promise<Array<string | LibvirtError>> {
    return invokeMany(
      () =>
        native.networkGetXMLDescMany(
          networks.map((n) => n.#handle),
          0,
        ),
      String,
    );
  }

  bridgeName(): Promise<string> {
    return invoke(() => native.networkGetBridgeName(this.#handle));
  }

  isActive(): Promise<boolean> {
    return invoke(() => native.networkIsActive(this.#handle));
  }

  isPersistent(): Promise<boolean> {
    return invoke(() => native.networkIsPersistent(this.#handle));
  }

  autostart(): Promise<boolean> {
    return invoke(() => native.networkGetAutostart(this.#handle));
  }

  setAutostart(on: boolean): Promise<void> {
    return invoke(() => native.networkSetAutostart(this.#handle, on));
  }

  start(): Promise<void> {
    return invoke(() => native.networkCreate(this.#handle));
  }

  stop(): Promise<void> {
    return invoke(() => native.networkDestroy(this.#handle));
  }

  undefine(): Promise<void> {
    return invoke(() => native.networkUndefine(this.#handle));
  }
}
