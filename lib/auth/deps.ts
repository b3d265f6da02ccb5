/** Everything the auth service needs, injected by the composition root (CLI or Lambda). */
import type { CertAuthorities } from '../ca/authorities.ts'
import type { Clock } from '../clock.ts'
import type { StsTransport } from '../join/iam/transport.ts'
import type { Logger } from '../log.ts'
import type { Store } from '../ports/store.ts'
import type { Random } from '../random.ts'
import type { ResourceService } from '../services/resource-service.ts'

export interface AuthLimits {
  /** Longest impersonated certificate the server issues (before role and identity clamps). */
  readonly maxCertTtlMs: number
  /** Longest renewable bot identity (tbot's MaxRenewableCertTTL). */
  readonly maxRenewableTtlMs: number
  /** Default TTL of a join token created by `bots add`. */
  readonly joinTokenTtlMs: number
}

export const DEFAULT_LIMITS: AuthLimits = Object.freeze({
  maxCertTtlMs: 24 * 3600_000,
  maxRenewableTtlMs: 24 * 3600_000,
  joinTokenTtlMs: 3600_000,
})

/** IAM join configuration. */
export interface IamJoinOptions {
  /** STS hosts accepted besides the AWS endpoints (exact names, e.g. a VPC endpoint). */
  readonly extraStsHosts?: readonly string[]
  /** How signed requests reach STS; default: `node:https`, no endpoint overrides. */
  readonly transport?: StsTransport
}

export interface AuthDeps {
  readonly clusterName: string
  /** Address bots use to reach the service (shown by ping). */
  readonly publicAddr: string
  readonly store: Store
  readonly resources: ResourceService
  readonly cas: CertAuthorities
  readonly clock: Clock
  readonly random: Random
  readonly log: Logger
  readonly limits: AuthLimits
  readonly iam?: IamJoinOptions
}
