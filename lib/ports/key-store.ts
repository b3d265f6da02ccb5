/**
 * Where CA private keys live. The state store keeps only a reference (`ref`) to each key; the
 * key itself stays in the key store — 0600 files in the embedded mode, KMS when deployed — so a
 * copy of the state never holds key material.
 */
import type { SignatureAlgorithm, Signer } from './signer.ts'

export interface KeyStore {
  /** Creates a new key. `label` names it for humans (file names, KMS descriptions). */
  generate(algorithm: SignatureAlgorithm, label: string): Promise<{ ref: string; signer: Signer }>
  /**
   * The signer of a stored key.
   * @throws NotFoundError when no key has this reference.
   */
  signer(ref: string): Promise<Signer>
  /** Destroys a key that was never put to use (an unknown reference is not an error). */
  delete(ref: string): Promise<void>
}
