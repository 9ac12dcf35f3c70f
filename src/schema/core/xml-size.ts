import { DEFAULT_MAX_XML_BYTES } from '../../libvirt/xml/host-safety.ts';
import type { GatewayContext } from './context.ts';
import { invalidInput } from './errors.ts';

/**
 * INVALID_INPUT when an XML argument exceeds the operator's `xml.maxBytes`: checked before
 * anything parses it (the privilege check reads a new domain's name from its XML).
 */
export function checkXmlSize(ctx: GatewayContext, field: string, xml: string): void {
  const limit = ctx.hostSafety?.maxXmlBytes ?? DEFAULT_MAX_XML_BYTES;
  // UTF-8 is at most 3 bytes per UTF-16 unit: only long strings need counting.
  if (xml.length * 3 <= limit) return;
  const bytes = Buffer.byteLength(xml, 'utf8');
  if (bytes > limit) throw invalidInput(field, `too large (${bytes} bytes, limit ${limit})`);
}
