import { buildXml, parseRoot, XmlError } from './xml-codec.ts';

/** libvirt's passwdValidTo: a UTC timestamp to the second, without a zone (`2026-12-07T21:03:00`). */
export function passwordValidTo(at: Date): string {
  return at.toISOString().slice(0, 19);
}

/**
 * The `<graphics>` device at `index` (in document order, every type counted, as
 * virDomainOpenGraphicsFD counts them) of a live domain document, with `passwd` and
 * `passwdValidTo` set: the XML virDomainUpdateDeviceFlags takes to change the display's password
 * (QEMU's set_password and expire_password). Every other attribute and child stays as the live
 * definition has it, because libvirt refuses a live update that changes the port or listen address.
 */
export function graphicsPasswordXml(domainXml: string, index: number, password: string, validTo: Date): string {
  const graphics = parseRoot(domainXml, 'domain').child('devices')?.elements('graphics')[index];
  if (graphics === undefined) throw new XmlError(`the domain has no graphics device ${index}`);
  graphics.setAttr('passwd', password);
  graphics.setAttr('passwdValidTo', passwordValidTo(validTo));
  return buildXml(graphics);
}
