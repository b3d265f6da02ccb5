/**
 * The bootstrap administrator: a role `admin` that allows every verb on every kind and sees
 * every registered resource, and an
 * identity for it that the embedded mode writes to the state directory (the `tctl` of a local
 * cluster). Admin identities are not renewable and cannot impersonate.
 */
import { issueUserCertificates, type UserCertificates } from '../ca/issue-user-certificates.ts'
import { AlreadyExistsError } from '../errors.ts'
import type { Identity } from '../identity/identity.ts'
import { emptyConditions } from '../resources/role.ts'
import type { Role } from '../resources/types.ts'
import type { AuthDeps } from './deps.ts'
import type { CallerPublicKey } from './public-key.ts'

export const ADMIN_ROLE = 'admin'
export const ADMIN_USER = 'admin'

/** Creates the `admin` role if it is missing (an existing one is left as the operator made it). */
export async function ensureAdminRole(deps: Pick<AuthDeps, 'resources'>): Promise<void> {
  const role: Role = {
    kind: 'role',
    version: 'v1',
    metadata: {
      name: ADMIN_ROLE,
      labels: {},
      description: 'Bootstrap administrator: every verb on every kind',
    },
    spec: {
      allow: {
        ...emptyConditions(),
        // Every registered resource is visible to the administrator (labels and rules both).
        node_labels: { '*': ['*'] },
        db_labels: { '*': ['*'] },
        kubernetes_labels: { '*': ['*'] },
        app_labels: { '*': ['*'] },
        rules: [{ resources: ['*'], verbs: ['*'] }],
      },
      deny: emptyConditions(),
      options: {},
    },
  }
  await deps.resources.create(role).catch((err: unknown) => {
    if (!(err instanceof AlreadyExistsError)) throw err
  })
}

/** Certificates for the administrator, valid for `ttlMs`. */
export async function issueAdminIdentity(
  deps: AuthDeps,
  publicKey: CallerPublicKey,
  ttlMs: number,
): Promise<UserCertificates> {
  const identity: Identity = {
    user: ADMIN_USER,
    roles: [ADMIN_ROLE],
    logins: [],
    generation: 0,
    renewable: false,
    disallowReissue: true,
  }
  const now = deps.clock.now()
  return issueUserCertificates(
    deps.cas.user,
    {
      identity,
      publicKey,
      now,
      notAfter: new Date(now.getTime() + ttlMs),
    },
    deps.random,
  )
}
