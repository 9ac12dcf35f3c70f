import { virErrorDomain, virErrorLevel, virErrorNumber } from './enums.generated.ts';
import { invert, members, pick } from './name-lookup.ts';

// virErrorNumber — libvirt-virterror.html#virErrorNumber. Its VIR_WAR_NO_* warnings keep their WAR_ prefix.
const viaVir = members(virErrorNumber, 'VIR_');
type Warning = Extract<keyof typeof viaVir, `WAR_${string}`>;
const warnings = (Object.keys(viaVir) as Array<keyof typeof viaVir>).filter((k): k is Warning => k.startsWith('WAR_'));
export const ErrorNumber = { ...members(virErrorNumber, 'VIR_ERR_'), ...pick(viaVir, warnings) };
export type ErrorNumberName = keyof typeof ErrorNumber;
const errorNumberNames = invert(ErrorNumber);
export function errorCodeName(value: number): ErrorNumberName | 'UNKNOWN' {
  return errorNumberNames.get(value) ?? 'UNKNOWN';
}

// virErrorDomain — libvirt-virterror.html#virErrorDomain
export const ErrorDomain = members(virErrorDomain, 'VIR_FROM_');
export type ErrorDomainName = keyof typeof ErrorDomain;
const errorDomainNames = invert(ErrorDomain);
export function errorDomainName(value: number): ErrorDomainName | 'UNKNOWN' {
  return errorDomainNames.get(value) ?? 'UNKNOWN';
}

// virErrorLevel — libvirt-virterror.html#virErrorLevel
export const ErrorLevel = members(virErrorLevel, 'VIR_ERR_');
export type ErrorLevelName = keyof typeof ErrorLevel;
const errorLevelNames = invert(ErrorLevel);
export function errorLevelName(value: number): ErrorLevelName | 'UNKNOWN' {
  return errorLevelNames.get(value) ?? 'UNKNOWN';
}
