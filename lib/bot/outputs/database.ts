/**
 * The `database` output: a client certificate routed to one database, signed by the database CA,
 * whose subject is the database user (what PostgreSQL's `cert` authentication and MySQL's
 * `REQUIRE SUBJECT` match), in the layout the client expects.
 *
 * | format      | artifacts                                                              |
 * |-------------|------------------------------------------------------------------------|
 * | `tls`       | `tls.crt`, `tls.key`, `tls.cas` (the database CA: verify the server)   |
 * | `mongo`     | `mongo.crt` (certificate then key, as `tlsCertificateKeyFile` wants), `mongo.cas` |
 * | `cockroach` | `client.<user>.crt`, `client.<user>.key`, `ca.crt` (`cockroach --certs-dir`) |
 *
 * libpq: `sslcert=tls.crt sslkey=tls.key sslrootcert=tls.cas sslmode=verify-full`.
 */
import type { IssueResponse } from '../../auth/issue-response.ts'
import { InvalidConfigError } from '../../errors.ts'
import { ARTIFACT_NAME_PATTERN } from '../../ports/destination.ts'
import type { CaBundleResponse } from '../auth-client.ts'
import type { ClientKey } from '../keys.ts'

export type DatabaseFormat = 'tls' | 'mongo' | 'cockroach'

export function databaseArtifacts(input: {
  readonly key: ClientKey
  readonly issued: IssueResponse
  readonly cas: CaBundleResponse
  readonly format: DatabaseFormat
}): Map<string, string> {
  const { key, issued, cas } = input
  const caBundle = cas.tls.db.join('')
  switch (input.format) {
    case 'tls':
      return new Map([
        ['tls.crt', issued.tls_cert],
        ['tls.key', key.privatePem],
        ['tls.cas', caBundle],
      ])
    case 'mongo':
      return new Map([
        ['mongo.crt', `${issued.tls_cert}${key.privatePem}`],
        ['mongo.cas', caBundle],
      ])
    case 'cockroach': {
      const user = issued.identity.routes?.database?.username ?? ''
      if (!ARTIFACT_NAME_PATTERN.test(`client.${user}.key`)) {
        throw new InvalidConfigError(
          'username',
          `"${user}" cannot be part of a cockroach certificate file name`,
        )
      }
      return new Map([
        [`client.${user}.crt`, issued.tls_cert],
        [`client.${user}.key`, key.privatePem],
        ['ca.crt', caBundle],
      ])
    }
  }
}
