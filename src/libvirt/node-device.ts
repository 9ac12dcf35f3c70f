import type { Connection } from './connection.ts';
import { ConnectListAllNodeDeviceFlags } from './enums.ts';
import { invoke, invokeMany, type LibvirtError } from './errors.ts';
import { flagsOf } from './flags.ts';
import { type NodeDeviceHandle, native, type RawNodeDevice } from './native.ts';

/** A CAP_* flag of virConnectListAllNodeDevices, e.g. CAP_PCI_DEV. */
export type NodeDeviceListFlag = keyof typeof ConnectListAllNodeDeviceFlags;

/** A device of the host as libvirt's node device driver sees it (virNodeDevicePtr). */
export class NodeDevice {
  readonly name: string;
  readonly #handle: NodeDeviceHandle;

  constructor(
    readonly connection: Connection,
    raw: RawNodeDevice,
  ) {
    this.#handle = raw.handle;
    this.name = raw.name;
  }

  /** virConnectListAllNodeDevices: every device, or those with any of the capabilities named. */
  static async list(connection: Connection, capabilities: readonly NodeDeviceListFlag[] = []): Promise<NodeDevice[]> {
    const flags = flagsOf(ConnectListAllNodeDeviceFlags, capabilities);
    const raws = await invoke(() => native.connectListAllNodeDevices(connection.handle, flags));
    return raws.map((raw) => new NodeDevice(connection, raw));
  }

  /** virNodeDeviceLookupByName. */
  static async byName(connection: Connection, name: string): Promise<NodeDevice> {
    return new NodeDevice(connection, await invoke(() => native.nodeDeviceLookupByName(connection.handle, name)));
  }

  /** virNodeDeviceGetXMLDesc. */
  xml(): Promise<string> {
    return invoke(() => native.nodeDeviceGetXMLDesc(this.#handle, 0));
  }

  /** xml() of many devices in one binding call. */
  static xmlMany(devices: readonly NodeDevice[]): Promise<Array<string | LibvirtError>> {
    return invokeMany(
      () =>
        native.nodeDeviceGetXMLDescMany(
          devices.map((d) => d.#handle),
          0,
        ),
      String,
    );
  }
}
