/**
 * Serial numbers are 16 bytes whose hex is exactly what the certificate carries, whatever the
 * random bytes (a leading zero byte once made the reported serial differ from the certificate's).
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { unsignedInteger } from '../../../lib/ca/der.ts'
import { newSerial } from '../../../lib/ca/serial.ts'
import type { Random } from '../../../lib/random.ts'

const fixed = (first: number): Random => ({
  bytes: (n) => Uint8Array.from({ length: n }, (_, i) => (i === 0 ? first : 0)),
  uuid: () => '00000000-0000-4000-8000-000000000000',
})

describe('newSerial', () => {
  for (const first of [0x00, 0x01, 0x3f, 0x7f, 0x80, 0xff]) {
    it(`ok/first random byte 0x${first.toString(16)}: positive, 16 bytes, DER keeps every byte`, () => {
      const serial = newSerial(fixed(first))
      assert.equal(serial.length, 16)
      assert.ok((serial[0] ?? 0) >= 0x40 && (serial[0] ?? 0) <= 0x7f)
      // DER INTEGER: tag, length 16, then exactly these bytes (no padding, no trimming).
      const der = unsignedInteger(serial)
      assert.deepEqual([...der.subarray(0, 2)], [0x02, 16])
      assert.deepEqual(new Uint8Array(der.subarray(2)), serial)
    })
  }
})
