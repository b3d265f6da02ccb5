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
import { BadRequestError, NotFoundError } from '../../errors.ts'

export async function kubeCommand(options: {
  args: readonly string[]
  destinationDir: string | undefined
  cwd: string
  clock: Clock
  print: (text: string) => void
}): Promise<number> {
  if (options.args[0] !== 'credentials') {
    throw new BadRequestError('usage: credbroker kube credentials --destination-dir <dir>')
  }
  if (options.destinationDir === undefined)
    throw new BadRequestError('kube credentials needs --destination-dir <dir>')
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
