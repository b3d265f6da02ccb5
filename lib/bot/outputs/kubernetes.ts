/**
 * The `kubernetes` output: a client certificate routed to one cluster (user CA; subject
 * `CN=<kubernetes user>`, `O=<group>`…, what the API server's x509 authenticator reads) and a
 * kubeconfig for it, named after the cluster (cluster, user and context alike).
 *
 * - **Embedded** (`disable_exec_plugin: true`, required for every destination but a directory):
 *   the kubeconfig carries the certificate, key and CA as `*-data` fields. It is one file a
 *   workload reads from Secrets Manager.
 * - **Exec plugin** (a directory destination): the kubeconfig runs
 *   `credbroker kube credentials --destination-dir <dir>`, which prints an `ExecCredential` from
 *   `tls.crt`/`tls.key` in the directory, so kubectl always reads the newest certificate.
 *
 * `certificate-authority-data` is the host CA: the API server (or a proxy in front of it)
 * presents a certificate the host CA issued.
 */
import { stringify } from 'yaml'
import type { IssueResponse } from '../../auth/issue-response.ts'
import { InvalidConfigError } from '../../errors.ts'
import type { CaBundleResponse } from '../auth-client.ts'
import type { ClientKey } from '../keys.ts'

export const KUBECONFIG = 'kubeconfig.yaml'

export function kubernetesArtifacts(input: {
  readonly key: ClientKey
  readonly issued: IssueResponse
  readonly cas: CaBundleResponse
  readonly cluster: string
  /** Absolute directory of a directory destination in exec plugin mode; absent: embedded. */
  readonly execDirectory?: string
}): Map<string, string> {
  const { key, issued, cas, cluster } = input
  const server = issued.target?.uri
  if (server === undefined) {
    throw new InvalidConfigError(
      'kubernetes_cluster',
      `kubernetes cluster "${cluster}" has no spec.server: register the API server URL to write a kubeconfig`,
    )
  }
  const hostCas = cas.tls.host.join('')
  const b64 = (text: string) => Buffer.from(text).toString('base64')
  const user =
    input.execDirectory === undefined
      ? { 'client-certificate-data': b64(issued.tls_cert), 'client-key-data': b64(key.privatePem) }
      : {
          exec: {
            apiVersion: 'client.authentication.k8s.io/v1',
            command: 'credbroker',
            args: ['kube', 'credentials', '--destination-dir', input.execDirectory],
            interactiveMode: 'Never',
            provideClusterInfo: false,
          },
        }
  const kubeconfig = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: cluster, cluster: { server, 'certificate-authority-data': b64(hostCas) } }],
    users: [{ name: cluster, user }],
    contexts: [{ name: cluster, context: { cluster, user: cluster } }],
    'current-context': cluster,
  }
  const artifacts = new Map([[KUBECONFIG, stringify(kubeconfig)]])
  if (input.execDirectory !== undefined) {
    artifacts.set('tls.crt', issued.tls_cert)
    artifacts.set('tls.key', key.privatePem)
    artifacts.set('tls.cas', hostCas)
  }
  return artifacts
}
