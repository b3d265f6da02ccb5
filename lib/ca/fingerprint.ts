/**
 * How CA keys are named to operators and bots: the SHA-256 of a CA certificate's DER in hex (what
 * `/v1/ping`, `/v1/cas` and `ca status` report, and bots compare), and OpenSSH's `SHA256:`
 * fingerprint of an SSH CA key (what `ssh-keygen -l` prints).
 */
import { createHash } from 'node:crypto'

/** SHA-256 over a CA certificate's DER, hex. */
export function caCertFingerprint(der: Uint8Array): string {
  return createHash('sha256').update(der).digest('hex')
}

/** OpenSSH's `SHA256:<base64, unpadded>` fingerprint of an `authorized_keys` line's key. */
export function sshKeyFingerprint(line: string): string {
  const blob = Buffer.from(line.split(' ')[1] ?? '', 'base64')
  return `SHA256:${createHash('sha256').update(blob).digest('base64').replace(/=+$/, '')}`
}
