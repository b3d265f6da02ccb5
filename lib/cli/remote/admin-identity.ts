/**
 * An admin identity directory as the embedded mode writes it (`<state>/admin/`) and `login`
 * fills: `key` (PKCS #8 PEM), `tlscert` (issued by the user CA) and, optionally, `auth_server`
 * (the URL of the auth service that issued it).
 */
import { X509Certificate } from 'node:crypto'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { type ClientIdentity, privateKeyFromPem } from '../../bot/auth-client.ts'
import type { Clock } from '../../clock.ts'
import { BadRequestError, UnauthenticatedError } from '../../errors.ts'

export interface AdminIdentity extends ClientIdentity {
  readonly dir: string
  readonly notAfter: Date
}

/**
 * Reads the identity in `dir` and checks it has not expired, so an expired identity fails here
 * with a clear message instead of as a generic 401 from the server.
 * @throws BadRequestError when the files are missing or unreadable; UnauthenticatedError when
 *   the certificate has expired.
 */
export function loadAdminIdentity(dir: string, clock: Clock): AdminIdentity {
  let keyPem: string
  let tlsCertPem: string
  try {
    keyPem = readFileSync(join(dir, 'key'), 'utf8')
    tlsCertPem = readFileSync(join(dir, 'tlscert'), 'utf8')
  } catch {
    throw new BadRequestError(`${dir} holds no admin identity (files key and tlscert)`)
  }
  let notAfter: Date
  let key: ClientIdentity['key']
  try {
    notAfter = new Date(new X509Certificate(tlsCertPem).validTo)
    key = privateKeyFromPem(keyPem)
  } catch {
    throw new BadRequestError(`${dir}: key or tlscert is not a PEM key and certificate`)
  }
  if (notAfter <= clock.now()) {
    throw new UnauthenticatedError(`the admin identity in ${dir} expired at ${notAfter.toISOString()}`)
  }
  return { dir, key, tlsCertPem, notAfter }
}

/** The `auth_server` file of an identity directory, when there is one. */
export function identityAuthServer(dir: string): string | undefined {
  try {
    const url = readFileSync(join(dir, 'auth_server'), 'utf8').trim()
    return url === '' ? undefined : url
  } catch {
    return undefined
  }
}
