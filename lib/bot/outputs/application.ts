/**
 * The `application` output: a client certificate routed to one app (user CA), with the identity
 * file names, plus `tls.crt`/`tls.key`/`tls.cas` when `specific_tls_naming` asks for them (for
 * clients that want those names). `tls.cas` and `credbroker-host-ca.crt` hold the host CA, which
 * verifies servers that present credbroker-issued certificates.
 */
import type { IssueResponse } from '../../auth/issue-response.ts'
import type { CaBundleResponse } from '../auth-client.ts'
import type { ClientKey } from '../keys.ts'

export function applicationArtifacts(input: {
  readonly key: ClientKey
  readonly issued: IssueResponse
  readonly cas: CaBundleResponse
  readonly specificTlsNaming: boolean
}): Map<string, string> {
  const { key, issued, cas } = input
  const hostCas = cas.tls.host.join('')
  const artifacts = new Map([
    ['key', key.privatePem],
    ['tlscert', issued.tls_cert],
    ['credbroker-user-ca.crt', cas.tls.user.join('')],
    ['credbroker-host-ca.crt', hostCas],
  ])
  if (input.specificTlsNaming) {
    artifacts.set('tls.crt', issued.tls_cert)
    artifacts.set('tls.key', key.privatePem)
    artifacts.set('tls.cas', hostCas)
  }
  return artifacts
}
