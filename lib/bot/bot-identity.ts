/**
 * The bot's own identity: obtained by joining, renewed every cycle, persisted in the bot's
 * storage destination as one atomic set (key, certificates and state together), so a crash never
 * leaves a key from one issuance beside a certificate from another.
 *
 * - No stored identity → join with the onboarding token.
 * - Stored identity still valid → renew it (renewable) with a fresh key, crash-safely: a renewal
 *   left unfinished by a crash or a lost response is completed first, with the key and request
 *   id saved for it (`renew-identity.ts`, docs/RENEWAL.md).
 * - Stored identity expired → log the guide's "Identity has expired" error and fail the cycle
 *   with an {@link ExpiredIdentityError} saying how to recover (`bots instances add`, new token,
 *   restart), without contacting the server: the token it was joined with is used up, and the
 *   server refuses expired certificates. Nothing is locked. A *new* token in the config (below)
 *   is the recovery: its join replaces the expired identity.
 * - The onboarding token changed (its hash differs from the one stored) → the stored identity is
 *   discarded and the bot joins with the new token: the documented way to reset a locked bot.
 *
 * `join_method: iam` identities are not renewable: they are "renewed" by joining again, every
 * cycle (Teleport's lightweight renewal). Each join asks for a challenge, signs an
 * `sts:GetCallerIdentity` request with the AWS credentials in {@link BotIdentityDeps.aws}, for the
 * origin of the auth server the client calls (its `auth_server`: the server refuses a join signed
 * for another origin, so a server relaying another's challenge gets nothing usable), and posts
 * it. While the stored identity is still valid the join carries proof of possession of it, so the
 * server keeps the bot instance; once it has expired the bot joins as a new instance.
 */
import { createHash } from 'node:crypto'
import { readFileSync } from 'node:fs'
import type { IssueResponse } from '../auth/issue-response.ts'
import type { Clock } from '../clock.ts'
import { InvalidConfigError, isBrokerError } from '../errors.ts'
import type { Logger } from '../log.ts'
import type { Destination } from '../ports/destination.ts'
import { cryptoRandom, type Random } from '../random.ts'
import type { AuthClient } from './auth-client.ts'
import type { BotConfig, TokenSource } from './config.ts'
import { type AwsCredentialsProvider, signGetCallerIdentity } from './iam-signer.ts'
import { identityFields } from './identity-summary.ts'
import { generateClientKey } from './keys.ts'
import {
  ExpiredIdentityError,
  expiredIdentity,
  type RenewalHooks,
  renewStoredIdentity,
} from './renew-identity.ts'
import { type BotIdentity, loadStoredIdentity, saveIdentity } from './renewal-storage.ts'

export type { BotIdentity } from './renewal-storage.ts'

/** What an `iam` join signs with; built by the composition root. */
export interface AwsJoinDeps {
  /** The STS region (config or `AWS_REGION` / `AWS_DEFAULT_REGION`); `us-east-1` when unset. */
  readonly region?: string | undefined
  /** E.g. `defaultProvider()` from `@aws-sdk/credential-provider-node`. */
  readonly credentials: AwsCredentialsProvider
}

export interface BotIdentityDeps {
  /** Only how to join and the identity's lifetime are read. */
  readonly config: Pick<BotConfig, 'onboarding' | 'lifetime'>
  readonly client: AuthClient
  readonly storage: Destination
  readonly clock: Clock
  readonly log: Logger
  /** Required for `join_method: iam`. */
  readonly aws?: AwsJoinDeps | undefined
  /** Renewal request ids; default: the operating system's CSPRNG. */
  readonly random?: Random | undefined
  /** Test seams for failure injection during a renewal; never set in production. */
  readonly renewalHooks?: RenewalHooks | undefined
}

/** Joins or renews as needed; returns the identity to act with. */
export async function refreshBotIdentity(deps: BotIdentityDeps): Promise<BotIdentity> {
  if (deps.config.onboarding.joinMethod === 'iam') return joinWithIam(deps, deps.config.onboarding.tokenName)
  const token = readToken(deps.config)
  let stored = await loadStoredIdentity(deps.storage)
  if (
    stored &&
    token !== undefined &&
    stored.state.token_hash !== undefined &&
    stored.state.token_hash !== hash(token)
  ) {
    deps.log.info('the onboarding token changed: discarding the stored identity and joining again')
    stored = undefined
  }
  const ttlSeconds = Math.round(deps.config.lifetime.ttlMs / 1000)
  const now = deps.clock.now()
  if (stored && stored.identity.notAfter > now) {
    const renewDeps = { ...deps, random: deps.random ?? cryptoRandom, hooks: deps.renewalHooks }
    return renewStoredIdentity(renewDeps, stored, ttlSeconds)
  }
  const expired = stored ? expiredIdentity(deps.log, stored, now) : undefined
  if (expired && (token === undefined || stored?.state.token_hash === hash(token))) throw expired
  if (token === undefined) {
    throw new InvalidConfigError(
      'onboarding.token',
      'no valid stored identity and no join token to join with',
    )
  }
  // With an expired identity here, the storage predates token hashes: the token may be new.
  return joinWithToken(deps, token, ttlSeconds, expired)
}

/**
 * One token join. `expired`: the expired identity this join replaces, when the token may be the
 * one it was joined with (storage written before token hashes were kept); a refused token then
 * fails with that error, which says how to recover.
 */
async function joinWithToken(
  deps: BotIdentityDeps,
  token: string,
  ttlSeconds: number,
  expired: ExpiredIdentityError | undefined = undefined,
): Promise<BotIdentity> {
  const key = generateClientKey()
  let issued: IssueResponse
  try {
    issued = await deps.client.join(token, key.publicPem, ttlSeconds)
  } catch (err) {
    if (expired && isBrokerError(err) && err.code === 'ERR_UNAUTHENTICATED') {
      const { expires, now, botName } = expired
      throw new ExpiredIdentityError({ expires, now, botName }, { cause: err })
    }
    throw err
  }
  deps.log.info('Successfully joined', identityFields(issued))
  return saveIdentity(deps.storage, key.privatePem, issued, hash(token))
}

/** One IAM join; see the module comment. */
async function joinWithIam(deps: BotIdentityDeps, tokenName: string): Promise<BotIdentity> {
  if (!deps.aws) {
    throw new InvalidConfigError(
      'onboarding.join_method',
      'join_method "iam" needs AWS credentials, and none were provided to the bot',
    )
  }
  const tokenHash = hash(`iam:${tokenName}`)
  let stored = await loadStoredIdentity(deps.storage)
  if (stored && stored.state.token_hash !== undefined && stored.state.token_hash !== tokenHash) {
    deps.log.info('the onboarding token changed: discarding the stored identity and joining again')
    stored = undefined
  }
  const now = deps.clock.now()
  const current = stored && stored.identity.notAfter > now ? stored.identity : undefined
  if (stored && !current) {
    deps.log.info('the stored identity has expired: joining as a new bot instance', {
      expires: stored.identity.notAfter.toISOString(),
    })
  }
  const { challenge } = await deps.client.iamChallenge(tokenName)
  const stsRequest = await signGetCallerIdentity({
    challenge,
    audience: deps.client.origin,
    region: deps.aws.region,
    credentials: deps.aws.credentials,
    clock: deps.clock,
  })
  const key = generateClientKey()
  const issued = await deps.client.joinIam(
    {
      token: tokenName,
      publicKeyPem: key.publicPem,
      ttlSeconds: Math.round(deps.config.lifetime.ttlMs / 1000),
      stsRequest,
    },
    current,
  )
  deps.log.info(current ? 'Successfully renewed bot identity by joining again' : 'Successfully joined', {
    ...identityFields(issued),
    join_method: 'iam',
  })
  return saveIdentity(deps.storage, key.privatePem, issued, tokenHash)
}

function readToken(config: Pick<BotConfig, 'onboarding'>): string | undefined {
  if (config.onboarding.joinMethod !== 'token') return undefined
  return readTokenSource(config.onboarding.token)
}

function readTokenSource(source: TokenSource): string | undefined {
  if (source.kind === 'value') return source.value
  try {
    const value = readFileSync(source.path, 'utf8').trim()
    return value === '' ? undefined : value
  } catch {
    return undefined // no token file: fine while a stored identity is valid
  }
}

const hash = (token: string) => createHash('sha256').update(token).digest('hex')
