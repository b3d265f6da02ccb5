/** Public CA material: ping and the CA bundle (PEMs, SSH CA keys, known_hosts, JWKS). */
import { createHash } from 'node:crypto'
import type { AuthDeps } from '../auth/deps.ts'

/** SHA-256 over the DER of a CA certificate, hex: what a bot pins. */
const certFingerprint = (der: Uint8Array) => createHash('sha256').update(der).digest('hex')

export function pingResponse(deps: AuthDeps) {
  const tls = (type: 'user' | 'host' | 'db') =>
    deps.cas[type].trustedTlsCerts.map((c) => certFingerprint(c.raw))
  return {
    cluster_name: deps.clusterName,
    public_addr: deps.publicAddr,
    ca_fingerprints: {
      user: tls('user'),
      host: tls('host'),
      db: tls('db'),
      jwt: deps.cas.jwt.trustedJwks.map((k) => k.kid),
    },
  }
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
  }
}
