/**
 * SSH wire encoding (RFC 4251 §5): the primitives OpenSSH keys and certificates are built from.
 * A writer collects chunks and concatenates once, which keeps certificate encoding cheap.
 */
export class SshWriter {
  readonly #chunks: Buffer[] = []

  uint32(n: number): this {
    const b = Buffer.allocUnsafe(4)
    b.writeUInt32BE(n >>> 0)
    this.#chunks.push(b)
    return this
  }

  uint64(n: bigint): this {
    const b = Buffer.allocUnsafe(8)
    b.writeBigUInt64BE(BigInt.asUintN(64, n))
    this.#chunks.push(b)
    return this
  }

  /** A length-prefixed byte string (or UTF-8 text). */
  string(value: Uint8Array | string): this {
    const bytes = typeof value === 'string' ? Buffer.from(value, 'utf8') : Buffer.from(value)
    this.uint32(bytes.length)
    this.#chunks.push(bytes)
    return this
  }

  /** A positive multiple-precision integer from big-endian magnitude bytes (RFC 4251 §5 mpint). */
  mpint(magnitude: Uint8Array): this {
    let start = 0
    while (start < magnitude.length && magnitude[start] === 0) start++
    const trimmed = Buffer.from(magnitude.subarray(start))
    const padded =
      trimmed.length > 0 && ((trimmed[0] as number) & 0x80) !== 0
        ? Buffer.concat([Buffer.from([0]), trimmed])
        : trimmed
    return this.string(padded)
  }

  /** Raw bytes, without a length prefix. */
  raw(bytes: Uint8Array): this {
    this.#chunks.push(Buffer.from(bytes))
    return this
  }

  toBuffer(): Buffer {
    return Buffer.concat(this.#chunks)
  }
}

/** Reads SSH wire data; throws `RangeError` on truncated input. */
export class SshReader {
  #offset = 0
  readonly #buf: Buffer

  constructor(buf: Uint8Array) {
    this.#buf = Buffer.from(buf)
  }

  uint32(): number {
    this.#need(4)
    const n = this.#buf.readUInt32BE(this.#offset)
    this.#offset += 4
    return n
  }

  uint64(): bigint {
    this.#need(8)
    const n = this.#buf.readBigUInt64BE(this.#offset)
    this.#offset += 8
    return n
  }

  string(): Buffer {
    const len = this.uint32()
    this.#need(len)
    const out = this.#buf.subarray(this.#offset, this.#offset + len)
    this.#offset += len
    return out
  }

  text(): string {
    return this.string().toString('utf8')
  }

  get done(): boolean {
    return this.#offset === this.#buf.length
  }

  #need(n: number): void {
    if (this.#offset + n > this.#buf.length) throw new RangeError('truncated SSH data')
  }
}
