/**
 * The `iam` join: a bot proves an AWS identity by handing over a signed `sts:GetCallerIdentity`
 * request that carries a fresh server challenge in a signed header; the server sends that request
 * to STS itself and matches the answer (account, ARN) against the token's allow rules. The result
 * is a non-renewable bot identity (generation 0): an IAM bot "renews" by joining again.
 *
 * Order of the checks, each with its own code (see `IamJoinErrorCode`): token exists, is `iam`,
 * is not locked; URL; host (and Host header); method; body; headers; challenge; challenge signed;
 * audience; STS status; STS answer; allow rules. The challenge the request names is consumed
 * before any of these checks, so no refused attempt leaves it reusable. The proof itself (request
 * checks, STS) is lib/join/iam/sts-proof.ts, shared with the administrators' IAM login.
 *
 * The audience: the bot signs the origin of its `auth_server` in the header
 * `x-credbroker-audience`, and the join is refused (`ERR_IAM_BAD_HEADERS`) unless that header is
 * present, signed and equal to the origin of `deps.publicAddr`. Otherwise a server a bot is
 * pointed at (a mistyped URL, another stage, a man in the middle on plain http) could relay this
 * service's challenge, have the bot sign it, and join here as that bot with its own key.
 *
 * A bot that still holds a valid identity may sign the join with proof of possession; when that
 * identity is the same bot's, the join keeps its bot instance (Machine ID's lightweight renewal).
 */
import { BadRequestError, IamJoinError, NotFoundError } from '../errors.ts'
import { botRole, botUser, type Identity } from '../identity/identity.ts'
import { anyRuleMatches, type CallerIdentity } from '../join/iam/allow-rules.ts'
import { type IssuedChallenge, issueChallenge } from '../join/iam/challenge.ts'
import { consumeNamedChallenges, stsTransport, verifyStsProof } from '../join/iam/sts-proof.ts'
import type { StsRequest } from '../join/iam/sts-request.ts'
import type { Authentication, BotInstance, Token } from '../resources/types.ts'
import { recordAudit } from './audit.ts'
import type { Caller } from './caller.ts'
import type { AuthDeps } from './deps.ts'
import { issueJoinedIdentity } from './issue-joined-identity.ts'
import type { IssueResponse } from './issue-response.ts'
import { appendAuthentication, newInstance, reusableInstance } from './join-iam-instance.ts'
import { fingerprint, INSTANCE_EXPIRY_MARGIN_MS } from './join-token.ts'
import { findLock, joinSubject, lockedMessage } from './locks.ts'
import type { CallerPublicKey } from './public-key.ts'

export interface IamJoinRequest {
  readonly token: string
  readonly publicKey: CallerPublicKey
  readonly ttlMs: number
  readonly sts: StsRequest
  /** The identity that signed the join with proof of possession, if any. */
  readonly previous?: Caller
}

/** `POST /v1/join/iam/challenge`: a challenge for an existing `iam` token. Creates nothing else. */
export async function issueIamChallenge(deps: AuthDeps, tokenName: string): Promise<IssuedChallenge> {
  const token = await readToken(deps, tokenName)
  assertIamToken(token)
  return issueChallenge(deps, token.metadata.name)
}

/** What is known about an attempt, for its audit event. */
interface Attempt {
  bot?: string
  token?: string
  who?: CallerIdentity
}

export async function joinWithIam(deps: AuthDeps, req: IamJoinRequest): Promise<IssueResponse> {
  const attempt: Attempt = {}
  try {
    return await join(deps, req, attempt)
  } catch (err) {
    if (err instanceof IamJoinError) {
      await recordAudit(deps, {
        type: 'bot.join',
        user: attempt.bot === undefined ? 'unknown' : botUser(attempt.bot),
        success: false,
        fields: {
          method: 'iam',
          code: err.code,
          ...(attempt.bot !== undefined && { bot: attempt.bot }),
          ...(attempt.token !== undefined && { token: attempt.token }),
          ...(attempt.who && { aws_account: attempt.who.account, aws_arn: attempt.who.arn }),
        },
      }).catch((auditErr: unknown) =>
        deps.log.error('audit of a refused iam join failed', { error: String(auditErr) }),
      )
    }
    throw err
  }
}

async function join(deps: AuthDeps, req: IamJoinRequest, attempt: Attempt): Promise<IssueResponse> {
  // First of all, so that no refusal (not even an unknown or expired token) leaves it usable.
  const challengeOwner = await consumeNamedChallenges(deps, req.sts.headers)
  const token = await readToken(deps, req.token)
  const tokenName = token.metadata.name
  attempt.bot = token.spec.bot_name
  attempt.token = tokenName
  assertIamToken(token)
  const botName = token.spec.bot_name
  await deps.resources.get('bot', botName).catch((err: unknown) => {
    if (err instanceof NotFoundError)
      throw new IamJoinError('ERR_JOIN_TOKEN_INVALID', `bot "${botName}" no longer exists`)
    throw err
  })
  const reused = await reusableInstance(deps, botName, req.previous)
  // The previous identity's instance is checked even when its record is gone: a locked instance
  // must not re-join as itself, nor slip into a new instance by presenting its identity.
  const previous = req.previous?.identity
  const previousInstance =
    previous?.botName === botName && previous.botInstanceId !== undefined
      ? `${botName}/${previous.botInstanceId}`
      : undefined
  const lock = await findLock(deps, {
    ...joinSubject(botName, tokenName),
    ...(previousInstance !== undefined && { botInstance: previousInstance }),
  })
  if (lock)
    throw new IamJoinError('ERR_JOIN_LOCKED', lockedMessage(lock), { details: { lock: lock.metadata.name } })

  const who = await verifyStsProof({
    sts: req.sts,
    challengeOwner,
    expectedOwner: tokenName,
    audience: {
      origin: new URL(deps.publicAddr).origin,
      request: 'the signed join request',
      fix: "the bot's auth_server must be this auth service's public address",
    },
    badChallengeMessage: 'the challenge is missing, unknown, used, expired or for another token',
    extraStsHosts: deps.iam?.extraStsHosts ?? [],
    transport: stsTransport(deps.iam?.transport),
  })
  attempt.who = who
  if (!anyRuleMatches(token.spec.allow, who)) {
    throw new IamJoinError(
      'ERR_IAM_NOT_ALLOWED',
      `${who.arn} (account ${who.account}) matches no allow rule of the token`,
    )
  }
  return issue(deps, req, { botName, tokenName, who, reused })
}

async function readToken(deps: AuthDeps, name: string): Promise<Token> {
  try {
    return await deps.resources.get('token', name)
  } catch (err) {
    // Absent, expired and malformed names look the same.
    if (err instanceof NotFoundError || err instanceof BadRequestError)
      throw new IamJoinError('ERR_JOIN_TOKEN_INVALID', 'the join token is invalid or expired')
    throw err
  }
}

function assertIamToken(token: Token): void {
  if (token.spec.join_method !== 'iam')
    throw new IamJoinError(
      'ERR_JOIN_METHOD_MISMATCH',
      `this token is for the ${token.spec.join_method} join method`,
    )
}

interface Granted {
  readonly botName: string
  readonly tokenName: string
  readonly who: CallerIdentity
  readonly reused: BotInstance | undefined
}

async function issue(deps: AuthDeps, req: IamJoinRequest, granted: Granted): Promise<IssueResponse> {
  const { botName, tokenName, who } = granted
  const now = deps.clock.now()
  const notAfter = new Date(now.getTime() + Math.min(req.ttlMs, deps.limits.maxRenewableTtlMs))
  const auth: Authentication = {
    authenticated_at: now.toISOString(),
    join_method: 'iam',
    join_token: tokenName,
    generation: 0,
    public_key_fingerprint: fingerprint(req.publicKey.spki),
    aws_account: who.account,
    aws_arn: who.arn,
  }
  const expires = new Date(notAfter.getTime() + INSTANCE_EXPIRY_MARGIN_MS)
  const instance = granted.reused
    ? await appendAuthentication(deps, granted.reused, auth, expires)
    : await deps.resources.create(newInstance(botName, deps.random.uuid(), auth, expires))
  const instanceId = instance.spec.instance_id
  const identity: Identity = {
    user: botUser(botName),
    roles: [botRole(botName)],
    logins: [],
    botName,
    botInstanceId: instanceId,
    generation: 0,
    renewable: false,
    disallowReissue: false,
  }
  return issueJoinedIdentity(deps, {
    identity,
    publicKey: req.publicKey,
    now,
    notAfter,
    audit: {
      bot: botName,
      instance: instanceId,
      method: 'iam',
      token: tokenName,
      aws_account: who.account,
      aws_arn: who.arn,
      reused_instance: granted.reused !== undefined,
    },
  })
}
