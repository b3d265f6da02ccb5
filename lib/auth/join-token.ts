/**
 * The `token` join: a single-use secret (the token's name) is exchanged for a renewable bot
 * identity with generation 1 and a new bot instance.
 *
 * The token is consumed with a conditional delete on the revision just read, so of two joins
 * racing with one token exactly one wins — on every store adapter, across processes.
 */
import { createHash } from 'node:crypto'
import { AccessDeniedError, NotFoundError, RevisionMismatchError, UnauthenticatedError } from '../errors.ts'
import { botRole, botUser, type Identity } from '../identity/identity.ts'
import type { BotInstance, Token } from '../resources/types.ts'
import type { AuthDeps } from './deps.ts'
import { issueJoinedIdentity } from './issue-joined-identity.ts'
import type { IssueResponse } from './issue-response.ts'
import { assertNotLocked, joinSubject } from './locks.ts'
import type { CallerPublicKey } from './public-key.ts'

/** Bot instance records outlive the identity they describe by this margin. */
export const INSTANCE_EXPIRY_MARGIN_MS = 5 * 60_000

export interface TokenJoinRequest {
  readonly token: string
  readonly publicKey: CallerPublicKey
  readonly ttlMs: number
}

const INVALID_TOKEN = 'the join token is invalid, expired or already used'

export async function joinWithToken(deps: AuthDeps, req: TokenJoinRequest): Promise<IssueResponse> {
  const token = await readToken(deps, req.token)
  if (token.spec.join_method !== 'token') {
    throw new AccessDeniedError(`this token is for the ${token.spec.join_method} join method`)
  }
  const botName = token.spec.bot_name
  await deps.resources.get('bot', botName).catch((err: unknown) => {
    throw err instanceof NotFoundError ? new AccessDeniedError(`bot "${botName}" no longer exists`) : err
  })
  await assertNotLocked(deps, joinSubject(botName, req.token))
  await consume(deps, token)

  const now = deps.clock.now()
  const ttlMs = Math.min(req.ttlMs, deps.limits.maxRenewableTtlMs)
  const notAfter = new Date(now.getTime() + ttlMs)
  const instanceId = deps.random.uuid()
  const identity: Identity = {
    user: botUser(botName),
    roles: [botRole(botName)],
    logins: [],
    botName,
    botInstanceId: instanceId,
    generation: 1,
    renewable: true,
    disallowReissue: false,
  }
  await deps.resources.create(newInstance(botName, instanceId, now, notAfter, req.publicKey))
  return issueJoinedIdentity(deps, {
    identity,
    publicKey: req.publicKey,
    now,
    notAfter,
    audit: { bot: botName, instance: instanceId, method: 'token' },
  })
}

async function readToken(deps: AuthDeps, name: string): Promise<Token> {
  try {
    return await deps.resources.get('token', name)
  } catch (err) {
    // Absent, expired and used tokens look the same: a caller learns nothing about which.
    if (err instanceof NotFoundError)
      throw new UnauthenticatedError(INVALID_TOKEN, { details: { reason: 'token_not_found' } })
    throw err
  }
}

async function consume(deps: AuthDeps, token: Token): Promise<void> {
  try {
    await deps.resources.delete('token', token.metadata.name, { revision: token.metadata.revision ?? '' })
  } catch (err) {
    if (err instanceof RevisionMismatchError || err instanceof NotFoundError) {
      throw new UnauthenticatedError(INVALID_TOKEN, { cause: err, details: { reason: 'token_already_used' } })
    }
    throw err
  }
}

function newInstance(
  botName: string,
  instanceId: string,
  now: Date,
  notAfter: Date,
  key: CallerPublicKey,
): BotInstance {
  const auth = {
    authenticated_at: now.toISOString(),
    join_method: 'token' as const,
    generation: 1,
    public_key_fingerprint: fingerprint(key.spki),
  }
  return {
    kind: 'bot_instance',
    version: 'v1',
    metadata: {
      name: instanceId,
      labels: {},
      expires: new Date(notAfter.getTime() + INSTANCE_EXPIRY_MARGIN_MS).toISOString(),
    },
    spec: { bot_name: botName, instance_id: instanceId },
    status: {
      generation: 1,
      initial_authentication: auth,
      latest_authentications: [auth],
      latest_heartbeats: [],
    },
  }
}

/** SHA-256 of a DER public key, as `SHA256:<base64>` (the OpenSSH fingerprint style). */
export function fingerprint(spki: Uint8Array): string {
  return `SHA256:${createHash('sha256').update(spki).digest('base64').replace(/=+$/, '')}`
}
