/**
 * The proof of an AWS identity by a signed, unsent `sts:GetCallerIdentity` request, independent of
 * what the identity is then used for. Two callers share it: the `iam` join of a bot
 * (`lib/auth/join-iam.ts`) and the IAM login of an administrator (`lib/auth/admin-login.ts`).
 *
 * A proof goes in two steps, because each caller runs its own checks in between:
 * 1. {@link consumeNamedChallenges}, first of all, so that no refusal leaves the challenge usable;
 * 2. {@link verifyStsProof}: the request's shape (URL, host, method, body, headers, each with its
 *    own code), the challenge's owner, the challenge signed, the audience signed and equal to this
 *    auth service's origin, then STS's answer.
 *
 * A challenge is bound to an owner (`lib/join/iam/challenge.ts`): a join token's name, or
 * {@link ADMIN_LOGIN_CHALLENGE_OWNER}. A request signed for one owner is refused for any other, so
 * a signed join request cannot be turned into an administrator's login, nor the reverse. A request
 * also names the auth service it was signed for ({@link checkAudienceSigned}): a server a client
 * was pointed at cannot relay another service's challenge and use the signature there.
 */
import { IamJoinError } from '../../errors.ts'
import type { CallerIdentity } from './allow-rules.ts'
import { type ChallengeDeps, consumeChallenge } from './challenge.ts'
import {
  challengeHeaderValues,
  checkAudienceSigned,
  checkChallengeSigned,
  checkStsBody,
  checkStsHeaders,
  checkStsHost,
  checkStsMethod,
  checkStsUrl,
  type ExpectedAudience,
  type StsRequest,
} from './sts-request.ts'
import { parseStsResponse } from './sts-response.ts'
import { createNodeStsTransport, type StsHttpResponse, type StsTransport } from './transport.ts'

/**
 * The owner of administrator login challenges. It holds a `:`, which no resource name (and so no
 * join token name) may hold: an administrator's challenge can never pass for a join token's.
 */
export const ADMIN_LOGIN_CHALLENGE_OWNER = 'admin-login:iam'

/** Most distinct challenge values one request may make us look up. */
const MAX_CHALLENGE_LOOKUPS = 4

let defaultTransport: StsTransport | undefined

/** The configured transport, else one shared `node:https` transport without overrides. */
export function stsTransport(configured: StsTransport | undefined): StsTransport {
  if (configured) return configured
  defaultTransport ??= createNodeStsTransport()
  return defaultTransport
}

/**
 * Consumes every challenge the request names (at most {@link MAX_CHALLENGE_LOOKUPS} distinct ones).
 * @returns the owner of the challenge when the request names exactly one live challenge
 */
export async function consumeNamedChallenges(
  deps: ChallengeDeps,
  headers: Readonly<Record<string, string>>,
): Promise<string | undefined> {
  const values = challengeHeaderValues(headers)
  const distinct = [...new Set(values)].slice(0, MAX_CHALLENGE_LOOKUPS)
  const owners = await Promise.all(distinct.map((value) => consumeChallenge(deps, value)))
  return values.length === 1 ? owners[0] : undefined
}

export interface StsProof {
  readonly sts: StsRequest
  /** What {@link consumeNamedChallenges} returned for this request. */
  readonly challengeOwner: string | undefined
  /** The owner the challenge must have been issued for. */
  readonly expectedOwner: string
  /** The `ERR_IAM_BAD_CHALLENGE` message, worded for the caller's protocol. */
  readonly badChallengeMessage: string
  /**
   * The origin this auth service is addressed by, which the request must carry in the signed
   * header `x-credbroker-audience` ({@link checkAudienceSigned}), and the refusals' wording.
   */
  readonly audience: ExpectedAudience
  /** STS hosts accepted besides AWS's own. */
  readonly extraStsHosts: readonly string[]
  readonly transport: StsTransport
}

/**
 * Checks the signed request in a fixed order and asks STS who signed it.
 * @returns the account and ARN STS vouches for
 * @throws IamJoinError with the code of the first failed check (`ERR_IAM_BAD_URL`,
 *   `ERR_IAM_BAD_HOST`, `ERR_IAM_BAD_METHOD`, `ERR_IAM_BAD_BODY`, `ERR_IAM_BAD_HEADERS`,
 *   `ERR_IAM_BAD_CHALLENGE`, `ERR_IAM_UNSIGNED_CHALLENGE`, `ERR_IAM_BAD_HEADERS` again for the
 *   audience, `ERR_IAM_STS_REJECTED`,
 *   `ERR_IAM_STS_UNAVAILABLE`, `ERR_IAM_STS_INVALID_RESPONSE`)
 */
export async function verifyStsProof(proof: StsProof): Promise<CallerIdentity> {
  const { sts } = proof
  const host = checkStsUrl(sts.url)
  checkStsHost(host, sts.headers, proof.extraStsHosts)
  checkStsMethod(sts.method)
  checkStsBody(sts.body)
  checkStsHeaders(sts.headers)
  if (proof.challengeOwner === undefined || proof.challengeOwner !== proof.expectedOwner)
    throw new IamJoinError('ERR_IAM_BAD_CHALLENGE', proof.badChallengeMessage)
  checkChallengeSigned(sts.headers)
  checkAudienceSigned(sts.headers, proof.audience)
  const response = await forward(proof.transport, sts)
  return parseStsResponse(response.status, response.body)
}

async function forward(transport: StsTransport, sts: StsRequest): Promise<StsHttpResponse> {
  try {
    return await transport.send({ url: sts.url, method: sts.method, headers: sts.headers, body: sts.body })
  } catch (err) {
    if (err instanceof IamJoinError) throw err
    throw new IamJoinError('ERR_IAM_STS_UNAVAILABLE', 'STS could not be reached', { cause: err })
  }
}
