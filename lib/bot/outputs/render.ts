/**
 * The outputs issued as impersonated identities (`/v1/certs`): the route each asks for and the
 * artifacts written from the answer.
 */
import type { IssueResponse } from '../../auth/issue-response.ts'
import type { CaBundleResponse, CertsRoute } from '../auth-client.ts'
import type { OutputConfig } from '../config.ts'
import type { ClientKey } from '../keys.ts'
import { applicationArtifacts } from './application.ts'
import { databaseArtifacts } from './database.ts'
import { identityArtifacts } from './identity.ts'
import { kubernetesArtifacts } from './kubernetes.ts'

/** The outputs issued through `/v1/certs`: an impersonated identity, routed or not. */
export type ImpersonatedOutput = Extract<
  OutputConfig,
  { type: 'identity' | 'database' | 'kubernetes' | 'application' }
>

/** The route of the output's certificate; undefined for an identity output. */
export function outputRoute(output: ImpersonatedOutput): CertsRoute | undefined {
  switch (output.type) {
    case 'identity':
      return undefined
    case 'database':
      return {
        database: {
          service: output.service,
          ...(output.username !== undefined && { username: output.username }),
          ...(output.database !== undefined && { database: output.database }),
        },
      }
    case 'kubernetes':
      return { kubernetes_cluster: output.kubernetesCluster }
    case 'application':
      return { app: output.appName }
  }
}

export function outputArtifacts(
  output: ImpersonatedOutput,
  input: { readonly key: ClientKey; readonly issued: IssueResponse; readonly cas: CaBundleResponse },
): Map<string, string> {
  const directory = output.destination.type === 'directory' ? output.destination.path : undefined
  switch (output.type) {
    case 'identity':
      return identityArtifacts({ ...input, ...(directory !== undefined && { directory }) })
    case 'database':
      return databaseArtifacts({ ...input, format: output.format ?? 'tls' })
    case 'kubernetes': {
      const exec = directory !== undefined && !output.disableExecPlugin
      return kubernetesArtifacts({
        ...input,
        cluster: output.kubernetesCluster,
        ...(exec && { execDirectory: directory }),
      })
    }
    case 'application':
      return applicationArtifacts({ ...input, specificTlsNaming: output.specificTlsNaming })
  }
}
