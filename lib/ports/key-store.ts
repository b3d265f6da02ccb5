/**
 * Where CA private keys live. The state store keeps only a reference (`ref`) to each key; the
 * key itself stays in the key store — 0600 files in the embedded mode, KMS when deployed — so a
 * copy of the state never holds key material.
 */
import type { SignatureAlgorithm, Signer } from './signer.ts'

export interface KeyStore {
  /**
   * Whether this store can hold keys of `algorithm` (the KMS store holds no Ed25519 keys, say).
   * Callers pick an algorithm with it before {@link generate}; the answer never changes for an
   * instance.
   */
  supports(algorithm: SignatureAlgorithm): boolean
  /**
   * Creates a new key (or, for a store whose keys are provisioned elsewhere, returns the key
   * provisioned for `label`). `label` names it for humans (file names, KMS descriptions).
   * @throws TypeError when `supports(algorithm)` is false (check first); InvalidConfigError when
   *   the store cannot provide a key for `label`.
   */
  generate(algorithm: SignatureAlgorithm, label: string): Promise<{ ref: string; signer: Signer }>
  /**
   * The signer of a stored key.
   * @throws NotFoundError when no key has this reference.
   */
  signer(ref: string): Promise<Signer>
  /**
   * Destroys a key that was never put to use (an unknown reference is not an error). A store may
   * decline to destroy keys it did not create (KMS keys provisioned by infrastructure): the same
   * key can be handed to several callers, and one caller's discard must not destroy it.
   */
  delete(ref: string): Promise<void>
}
