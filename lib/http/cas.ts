/**
 * Public CA material: ping and the CA bundle (PEMs, SSH CA keys, known_hosts, JWKS). Both list
 * every CA key trusted in the current rotation phase, and say each CA's phase and signing
 * fingerprints, which bots compare on every run to decide when to reissue.
 */
import type { AuthDeps } from '../auth/deps.ts'
import { CA_TYPES, type CaType } from '../ca/authorities.ts'
import { caCertFingerprint } from '../ca/fingerprint.ts'
import type { RotationPhase } from '../ca/rotation-phases.ts'

export function pingResponse(deps: AuthDeps) {
  const tls = (type: 'user' | 'host' | 'db') =>
    deps.cas[type].trustedTlsCerts.map((c) => caCertFingerprint(c.raw))
  return {
    cluster_name: deps.clusterName,
    public_addr: deps.publicAddr,
    ca_fingerprints: {
      user: tls('user'),
      host: tls('host'),
      db: tls('db'),
      jwt: deps.cas.jwt.trustedJwks.map((k) => k.kid),
    },
    rotation: rotationSummary(deps),
  }
}

/** Per CA: its rotation phase and the fingerprints of the key set that signs now. */
export interface CaRotationSummary {
  readonly phase: RotationPhase
  /** SHA-256 of the signing X.509 CA certificate (hex), for CAs with one. */
  readonly tls?: string
  /** `kid` of the signing JWT key. */
  readonly jwt?: string
  /** The signing SSH CA key (`authorized_keys` line), for CAs with one. */
  readonly ssh?: string
}

export function rotationSummary(deps: AuthDeps): Record<CaType, CaRotationSummary> {
  const entries = CA_TYPES.map((type) => {
    const ca = deps.cas[type]
    const summary: CaRotationSummary = {
      phase: ca.rotation.phase,
      ...(ca.tls && { tls: caCertFingerprint(ca.tls.certDer) }),
      ...(ca.jwt && { jwt: ca.jwt.kid }),
      ...(ca.ssh && { ssh: ca.ssh.publicKey }),
    }
    return [type, summary] as const
  })
  return Object.fromEntries(entries) as Record<CaType, CaRotationSummary>
}

/**
 * `known_hosts` lines that make OpenSSH trust hosts signed by the host CA for the cluster's
 * names (`@cert-authority <patterns> <key>`).
 */
export function knownHosts(deps: AuthDeps): string {
  const patterns = `${deps.clusterName},*.${deps.clusterName}`
  return deps.cas.host.trustedSshKeys.map((key) => `@cert-authority ${patterns} ${key}\n`).join('')
}

export function caBundle(deps: AuthDeps) {
  return {
    cluster_name: deps.clusterName,
    tls: {
      user: deps.cas.user.trustedTlsPems,
      host: deps.cas.host.trustedTlsPems,
      db: deps.cas.db.trustedTlsPems,
    },
    ssh: { user: deps.cas.user.trustedSshKeys, host: deps.cas.host.trustedSshKeys },
    known_hosts: knownHosts(deps),
    jwks: { keys: deps.cas.jwt.trustedJwks },
    rotation: rotationSummary(deps),
  }
}
