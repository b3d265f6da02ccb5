/**
 * The `ssh_host` output: what an sshd needs to be trusted by credbroker clients and to trust
 * them, with tbot's file names.
 *
 * | artifact              | sshd_config                                              |
 * |-----------------------|----------------------------------------------------------|
 * | `ssh_host`            | `HostKey` (PKCS #8 PEM private key; sshd wants it 0600)   |
 * | `ssh_host.pub`        | the public key                                           |
 * | `ssh_host-cert.pub`   | `HostCertificate` (signed by the host CA)                |
 * | `ssh_host-user-ca.pub`| `TrustedUserCAKeys` (every trusted user CA key)          |
 */
import type { CaBundleResponse, HostCertResponse } from '../auth-client.ts'
import type { ClientKey } from '../keys.ts'

export function sshHostArtifacts(input: {
  readonly key: ClientKey
  readonly issued: HostCertResponse
  readonly cas: CaBundleResponse
}): Map<string, string> {
  const { key, issued, cas } = input
  return new Map([
    ['ssh_host', key.privatePem],
    ['ssh_host.pub', `${key.sshPublic}\n`],
    ['ssh_host-cert.pub', `${issued.ssh_host_cert}\n`],
    ['ssh_host-user-ca.pub', cas.ssh.user.map((line) => `${line}\n`).join('')],
  ])
}
