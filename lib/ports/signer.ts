/**
 * The signer port: the only way CA code touches a private key. `lib/ca` sees signatures and
 * public keys, never key material, so a deployed CA key can live in KMS and never leave it.
 *
 * Adapters: `local` (a node:crypto key, for tests and the embedded mode) and, when deployed,
 * KMS. Every adapter passes `test/conformance/signer.suite.ts`, which verifies signatures with
 * node:crypto, never with the adapter under test.
 */

/** The signature schemes CA keys use. */
export type SignatureAlgorithm = 'ecdsa-p256-sha256' | 'ed25519' | 'rsa-pkcs1-sha256'

export interface Signer {
  readonly algorithm: SignatureAlgorithm
  /** The public key as a DER SubjectPublicKeyInfo. */
  readonly publicKey: Uint8Array
  /**
   * Signs `data` (the whole message; the signer hashes it where the scheme needs a hash).
   * @returns ECDSA: the DER `Ecdsa-Sig-Value` (as X.509 expects); Ed25519: 64 raw bytes;
   *   RSA: the PKCS #1 v1.5 signature.
   * @throws UpstreamUnavailableError when a remote key service fails.
   */
  sign(data: Uint8Array): Promise<Uint8Array>
}
