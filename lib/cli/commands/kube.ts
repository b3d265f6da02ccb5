/**
 * `credbroker kube credentials --destination-dir DIR`: the exec credential plugin a `kubernetes`
 * output's kubeconfig runs (exec plugin mode). Prints a `client.authentication.k8s.io/v1`
 * `ExecCredential` with the client certificate and key the bot last wrote to DIR, and their
 * expiry, so kubectl asks again once they expire. Reads one consistent set (never a certificate
 * of one issuance with the key of another).
 */
import { X509Certificate } from 'node:crypto'
import { isAbsolute, resolve } from 'node:path'
import { DirectoryDestination } from '../../adapters/directory/destination.ts'
import type { Clock } from '../../clock.ts'
import { NotFoundError } from '../../errors.ts'
import { stringFlag } from '../args.ts'
import type { Invocation } from '../command.ts'
import { UsageError } from '../usage-error.ts'

export async function kubeCommand(options: {
  destinationDir: string | undefined
  cwd: string
  clock: Clock
  print: (text: string) => void
}): Promise<number> {
  if (options.destinationDir === undefined)
    throw new UsageError('kube credentials needs --destination-dir <dir>')
  const dir = isAbsolute(options.destinationDir)
    ? options.destinationDir
    : resolve(options.cwd, options.destinationDir)
  const files = await new DirectoryDestination({ path: dir, clock: options.clock }).readAll()
  const cert = files.get('tls.crt')
  const key = files.get('tls.key')
  if (cert === undefined || key === undefined) {
    throw new NotFoundError(
      `${dir} holds no kubernetes credentials (tls.crt, tls.key): has the bot written them?`,
    )
  }
  const certPem = new TextDecoder().decode(cert)
  const expires = new Date(new X509Certificate(certPem).validTo)
  if (expires <= options.clock.now()) {
    throw new NotFoundError(
      `the kubernetes certificate in ${dir} expired at ${expires.toISOString()}; is the bot running?`,
    )
  }
  options.print(
    JSON.stringify({
      apiVersion: 'client.authentication.k8s.io/v1',
      kind: 'ExecCredential',
      status: {
        clientCertificateData: certPem,
        clientKeyData: new TextDecoder().decode(key),
        expirationTimestamp: expires.toISOString(),
      },
    }),
  )
  return 0
}

export function runKubeCredentials(inv: Invocation): Promise<number> {
  return kubeCommand({
    destinationDir: stringFlag(inv.flags, 'destination-dir'),
    cwd: inv.io.cwd,
    clock: inv.clock,
    print: inv.io.stdout,
  })
}
