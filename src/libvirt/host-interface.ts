import type { Connection } from './connection.ts';
import { InterfaceXMLFlags } from './enums.ts';
import { invoke, invokeMany, type LibvirtError } from './errors.ts';
import { type InterfaceHandle, native, type RawInterface } from './native.ts';

/** A host network interface (virInterfacePtr), described by netcf-style XML. */
export class HostInterface {
  readonly name: string;
  readonly mac: string;
  readonly #handle: InterfaceHandle;

  constructor(
    readonly connection: Connection,
    raw: RawInterface,
  ) {
    this.#handle = raw.handle;
    this.name = raw.name;
    this.mac = raw.mac;
  }

  xml(options: { inactive?: boolean } = {}): Promise<string> {
    return invoke(() => native.interfaceGetXMLDesc(this.#handle, options.inactive ? InterfaceXMLFlags.INACTIVE : 0));
  }

  /** xml() of many interfaces in one binding call. */
  static xmlMany(interfaces: readonly HostInterface[]): Promise<Array<string | LibvirtError>> {
    return invokeMany(
      () =>
        native.interfaceGetXMLDescMany(
          interfaces.map((i) => i.#handle),
          0,
        ),
      String,
    );
  }

  isActive(): Promise<boolean> {
    return invoke(() => native.interfaceIsActive(this.#handle));
  }

  start(): Promise<void> {
    return invoke(() => native.interfaceCreate(this.#handle));
  }

  stop(): Promise<void> {
    return invoke(() => native.interfaceDestroy(this.#handle));
  }

  undefine(): Promise<void> {
    return invoke(() => native.interfaceUndefine(this.#handle));
  }
}
