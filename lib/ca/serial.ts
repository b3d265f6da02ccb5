/**
 * Certificate serial numbers: 16 random bytes whose first byte is 0x40–0x7f, so the DER INTEGER
 * is positive, exactly 16 bytes (never a padded 17th, never a shortened 15), and its hex form —
 * reported in issuance responses, audit events and secret metadata — is exactly the serial the
 * certificate carries. 126 random bits, well above the 64 that CAs are held to.
 */
import type { Random } from '../random.ts'

export function newSerial(random: Random): Uint8Array {
  const serial = random.bytes(16)
  serial[0] = ((serial[0] ?? 0) & 0x3f) | 0x40
  return serial
}
