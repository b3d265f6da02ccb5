/** In-memory {@link KeyStore} for tests and the memory state mode: keys die with the process. */
import { NotFoundError } from '../../errors.ts'
import type { KeyStore } from '../../ports/key-store.ts'
import type { SignatureAlgorithm, Signer } from '../../ports/signer.ts'
import { cryptoRandom, type Random } from '../../random.ts'
import { LOCAL_SIGNATURE_ALGORITHMS } from '../local/key-store.ts'
import { LocalSigner } from '../local/signer.ts'

export class MemoryKeyStore implements KeyStore {
  readonly #keys = new Map<string, Signer>()
  readonly #random: Random

  constructor(options: { random?: Random } = {}) {
    this.#random = options.random ?? cryptoRandom
  }

  supports(algorithm: SignatureAlgorithm): boolean {
    return LOCAL_SIGNATURE_ALGORITHMS.has(algorithm)
  }

  async generate(algorithm: SignatureAlgorithm, label: string): Promise<{ ref: string; signer: Signer }> {
    const ref = `memory:${label}:${this.#random.uuid()}`
    const signer = LocalSigner.generate(algorithm)
    this.#keys.set(ref, signer)
    return { ref, signer }
  }

  async delete(ref: string): Promise<void> {
    this.#keys.delete(ref)
  }

  async signer(ref: string): Promise<Signer> {
    const signer = this.#keys.get(ref)
    if (!signer) throw new NotFoundError(`CA key ${ref} not found`)
    return signer
  }
}
