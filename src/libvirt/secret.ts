import type { Connection } from './connection.ts';
import { SecretUsageType, type SecretUsageTypeName, secretUsageTypeName, virSecretDefineFlags } from './enums.ts';
import { invoke, invokeMany, type LibvirtError } from './errors.ts';
import { native, type RawSecret, type SecretHandle } from './native.ts';

/**
 * A libvirt secret (virSecretPtr): a passphrase or key libvirt hands to QEMU or a storage backend.
 * Its value can be set, never read: the port has no call that reads it (virSecretGetValue).
 */
export class Secret {
  readonly uuid: string;
  readonly usageType: SecretUsageTypeName | 'UNKNOWN';
  /** The usage's id (a volume path, a Ceph, TLS or vTPM name, an iSCSI target); empty for NONE. */
  readonly usageId: string;
  readonly #handle: SecretHandle;

  constructor(
    readonly connection: Connection,
    raw: RawSecret,
  ) {
    this.#handle = raw.handle;
    this.uuid = raw.uuid;
    this.usageType = secretUsageTypeName(raw.usageType) as SecretUsageTypeName | 'UNKNOWN';
    this.usageId = raw.usageId;
  }

  /** virConnectListAllSecrets. */
  static async list(connection: Connection): Promise<Secret[]> {
    const raws = await invoke(() => native.connectListAllSecrets(connection.handle, 0));
    return raws.map((raw) => new Secret(connection, raw));
  }

  /** virSecretLookupByUUIDString. */
  static async byUuid(connection: Connection, uuid: string): Promise<Secret> {
    return new Secret(connection, await invoke(() => native.secretLookupByUUID(connection.handle, uuid)));
  }

  /** virSecretLookupByUsage. */
  static async byUsage(connection: Connection, type: SecretUsageTypeName, usageId: string): Promise<Secret> {
    return new Secret(
      connection,
      await invoke(() => native.secretLookupByUsage(connection.handle, SecretUsageType[type], usageId)),
    );
  }

  /** virSecretDefineXML, validated against libvirt's schema (VIR_SECRET_DEFINE_VALIDATE). */
  static async define(connection: Connection, xml: string): Promise<Secret> {
    const flags = virSecretDefineFlags.VIR_SECRET_DEFINE_VALIDATE;
    return new Secret(connection, await invoke(() => native.secretDefineXML(connection.handle, xml, flags)));
  }

  /** virSecretGetXMLDesc: the definition, never the value. */
  xml(): Promise<string> {
    return invoke(() => native.secretGetXMLDesc(this.#handle, 0));
  }

  /** xml() of many secrets in one binding call. */
  static xmlMany(secrets: readonly Secret[]): Promise<Array<string | LibvirtError>> {
    return invokeMany(
      () =>
        native.secretGetXMLDescMany(
          secrets.map((s) => s.#handle),
          0,
        ),
      String,
    );
  }

  /** virSecretSetValue. The caller's buffer is zeroed once the binding has copied it. */
  async setValue(value: Buffer): Promise<void> {
    try {
      await invoke(() => native.secretSetValue(this.#handle, value, 0));
    } finally {
      value.fill(0);
    }
  }

  /** virSecretUndefine. */
  undefine(): Promise<void> {
    return invoke(() => native.secretUndefine(this.#handle));
  }
}
