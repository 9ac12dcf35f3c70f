export * from './capabilities-xml.ts';
export * from './domain-capabilities-xml.ts';
export * from './domain-spec-xml.ts';
export * from './domain-xml.ts';
export * from './interface-xml.ts';
export * from './network-xml.ts';
export * from './storage-pool-xml.ts';
export * from './volume-xml.ts';
export { toBytes, toKiB, XmlError } from './xml-codec.ts';
