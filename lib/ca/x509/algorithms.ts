/** DER AlgorithmIdentifiers for the signature schemes of {@link SignatureAlgorithm}. */
import type { SignatureAlgorithm } from '../../ports/signer.ts'
import { oid, sequence } from '../der.ts'

const DER_NULL = Buffer.from([0x05, 0x00])

const identifiers: Record<SignatureAlgorithm, Buffer> = {
  // RFC 5758 §3.2: ecdsa-with-SHA256, parameters absent.
  'ecdsa-p256-sha256': sequence(oid('1.2.840.10045.4.3.2')),
  // RFC 8410 §3: id-Ed25519, parameters absent.
  ed25519: sequence(oid('1.3.101.112')),
  // RFC 4055 §5: sha256WithRSAEncryption, parameters NULL.
  'rsa-pkcs1-sha256': sequence(oid('1.2.840.113549.1.1.11'), DER_NULL),
}

/** The DER AlgorithmIdentifier of a signature made with `algorithm`. */
export function signatureAlgorithmIdentifier(algorithm: SignatureAlgorithm): Buffer {
  return identifiers[algorithm]
}
