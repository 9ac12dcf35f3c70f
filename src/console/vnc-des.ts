import { createCipheriv } from 'node:crypto';

/** The bits of a byte in reverse order: VNC's DES key schedule reads each key byte LSB first. */
export function reverseBits(byte: number): number {
  let out = 0;
  for (let i = 0; i < 8; i++) out |= ((byte >> i) & 1) << (7 - i);
  return out;
}

/**
 * Single DES in ECB mode. OpenSSL 3 keeps plain `des-ecb` in its legacy provider, which Node
 * does not load; triple DES with three equal keys (encrypt, decrypt, encrypt) is single DES, and
 * `des-ede3-ecb` is in the default provider.
 */
export function desEncrypt(key: Buffer, data: Buffer): Buffer {
  if (key.length !== 8) throw new RangeError('a DES key is 8 bytes');
  if (data.length % 8 !== 0) throw new RangeError('DES in ECB mode encrypts whole 8-byte blocks');
  const cipher = createCipheriv('des-ede3-ecb', Buffer.concat([key, key, key]), null);
  cipher.setAutoPadding(false);
  return Buffer.concat([cipher.update(data), cipher.final()]);
}

/**
 * The answer to a VNC authentication challenge (RFB security type 2, RFC 6143 §7.2.2): the
 * 16-byte challenge DES-encrypted with the password as key, its first 8 bytes padded with zeros,
 * each byte bit-reversed as VNC's original d3des does.
 */
export function vncAuthResponse(password: string, challenge: Buffer): Buffer {
  if (challenge.length !== 16) throw new RangeError('a VNC challenge is 16 bytes');
  const key = Buffer.alloc(8);
  Buffer.from(password, 'latin1').copy(key, 0, 0, 8);
  for (let i = 0; i < 8; i++) key[i] = reverseBits(key[i] ?? 0);
  return desEncrypt(key, challenge);
}
