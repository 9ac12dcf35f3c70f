import {
  type ErrorDomainName,
  type ErrorLevelName,
  type ErrorNumberName,
  errorCodeName,
  errorDomainName,
  errorLevelName,
} from './error-codes.ts';
import type { RawLibvirtError } from './native.ts';

/** A libvirt failure: libvirt's own message plus its error code, domain and level (virterror.h). */
export class LibvirtError extends Error {
  override readonly name = 'LibvirtError';
  /** virErrorNumber, e.g. 42 (NO_DOMAIN). */
  readonly code: number;
  readonly codeName: ErrorNumberName | 'UNKNOWN';
  /** virErrorDomain: the part of libvirt that failed, e.g. 10 (QEMU). */
  readonly domain: number;
  readonly domainName: ErrorDomainName | 'UNKNOWN';
  readonly level: number;
  readonly levelName: ErrorLevelName | 'UNKNOWN';

  constructor(message: string, code: number, domain: number, level: number, options?: ErrorOptions) {
    super(message, options);
    this.code = code;
    this.codeName = errorCodeName(code);
    this.domain = domain;
    this.domainName = errorDomainName(domain);
    this.level = level;
    this.levelName = errorLevelName(level);
  }
}

/**
 * The binding refused a string argument holding a NUL byte: libvirt takes C strings, so
 * "victim\u0000../x" would otherwise reach it as "victim". Nothing was sent to libvirt.
 */
export class NulByteError extends Error {
  override readonly name = 'NulByteError';

  /** The binding's name for the argument (name, xml, uuid…). */
  constructor(readonly argument: string) {
    super(`${argument} must not contain a NUL byte`);
  }
}

const NUL_REFUSAL = /^(.+) must not contain a NUL byte$/;

function isRaw(e: unknown): e is RawLibvirtError {
  return e instanceof Error && typeof (e as Partial<RawLibvirtError>).libvirtCode === 'number';
}

/**
 * Turns the binding's rejections into LibvirtError and its NUL-byte refusals into NulByteError;
 * other argument errors (TypeError, RangeError) pass through.
 */
export function toLibvirtError(e: unknown): unknown {
  const nul = e instanceof TypeError ? NUL_REFUSAL.exec(e.message) : null;
  if (nul?.[1]) return new NulByteError(nul[1]);
  if (!isRaw(e)) return e;
  return new LibvirtError(e.message, e.libvirtCode, e.libvirtDomain, e.libvirtLevel);
}

/** Runs one binding call, translating its failure once, here. */
export async function invoke<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (e) {
    throw toLibvirtError(e);
  }
}

/**
 * Runs one batch call over many objects. A failure of the whole call rejects; a failure of
 * one object becomes a LibvirtError in that object's slot (the DataLoader convention).
 */
export async function invokeMany<R, T>(
  call: () => Promise<Array<R | RawLibvirtError>>,
  map: (value: R) => T,
): Promise<Array<T | LibvirtError>> {
  const slots = await invoke(call);
  return slots.map((slot) => (isRaw(slot) ? (toLibvirtError(slot) as LibvirtError) : map(slot as R)));
}
