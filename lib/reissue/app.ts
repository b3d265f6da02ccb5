/**
 * The bot's reissue endpoint, as a Hono app (served by the daemon on 127.0.0.1, or behind a
 * Function URL with IAM auth in `lib/serverless/reissue-lambda.ts`).
 *
 * - `POST /v1/reissue` `{ outputs?: string[], reason?: string }` renews the named outputs (all
 *   when absent) now, through the same pipeline as the schedule, and answers per output
 *   `{ output, ok: true, version_id, serial, not_after }` or `{ output, ok: false, code, message }`
 *   (`version_id`: the destination's version of the set, a Secrets Manager `VersionId`).
 *   Unknown names are refused (400 `ERR_NOT_FOUND`) before anything runs. An `Idempotency-Key`
 *   retry with the same body replays the first answer without issuing; with another body: 409.
 *   With a {@link ReplyRecord} (the Lambda), finished replies are also looked up there and kept
 *   there, so a retry that reaches another container replays too.
 * - `GET /v1/status`: per output the last success, expiry, renewal time and last error; the
 *   bot identity's expiry; whether the auth service answers a ping.
 *
 * Every request is authorized first (`authorize.ts`), so an unauthorized caller gets a generic
 * 401/403 and nothing else; reissues are then rate-limited per caller (429 `ERR_THROTTLED`).
 * Runs go through the bot's {@link RunCoordinator}: never two at once, and a reissue joins a
 * run that covers its outputs.
 */
import { Hono } from 'hono'
import type { Clock } from '../clock.ts'
import { BadRequestError, ThrottledError } from '../errors.ts'
import { errorResponse, notFoundResponse } from '../http/errors.ts'
import { readBody } from '../http/read-body.ts'
import type { Logger } from '../log.ts'
import type { Authorizer } from './authorize.ts'
import { IdempotencyConflictError, UnknownOutputsError } from './errors.ts'
import { fingerprintOf, IdempotencyCache, type StoredReply } from './idempotency.ts'
import { RateLimiter } from './rate-limit.ts'
import type { ReplyRecord } from './reply-record.ts'
import { parseReissueRequest, type ReissueRequest } from './request.ts'
import { type ReissueRunDeps, runReissue } from './run.ts'
import { type StatusDeps, statusOf } from './status.ts'

export type { ReissueOutputResult } from './run.ts'

const MAX_BODY_BYTES = 16 * 1024

export interface ReissueAppDeps extends StatusDeps, ReissueRunDeps {
  /** The configured output names, in configuration order. */
  readonly outputs: readonly string[]
  readonly authorize: Authorizer
  readonly clock: Clock
  readonly log: Logger
  /** Default: 6 reissues per minute per caller. */
  readonly limiter?: RateLimiter
  /** Default: 24 h, 1000 keys. */
  readonly idempotency?: IdempotencyCache
  /** Finished replies kept beyond this process (the Lambda's); absent: memory only. */
  readonly replies?: ReplyRecord
}

export function createReissueApp(deps: ReissueAppDeps) {
  const limiter = deps.limiter ?? new RateLimiter({ clock: deps.clock, perMinute: 6 })
  const idempotency = deps.idempotency ?? new IdempotencyCache({ clock: deps.clock })
  const app = new Hono()

  app.post('/v1/reissue', async (c) => {
    const caller = deps.authorize(c)
    if (!limiter.take(caller.id)) throw new ThrottledError('too many reissue requests; retry later')
    const request = parseReissueRequest(await readBody(c, MAX_BODY_BYTES))
    const unknown = (request.outputs ?? []).filter((o) => !deps.outputs.includes(o))
    if (unknown.length > 0) throw new UnknownOutputsError(unknown)
    const key = c.req.header('idempotency-key')
    let reply: Promise<StoredReply>
    if (key === undefined || key === '') reply = reissue(deps, caller.id, request)
    else {
      if (key.length > 256) throw new BadRequestError('Idempotency-Key is longer than 256 characters')
      const found = idempotency.lookup(caller.id, key, request)
      if (found.kind === 'conflict') throw new IdempotencyConflictError()
      if (found.kind === 'replay') reply = found.reply
      else {
        reply = replayOrReissue(deps, caller.id, key, request)
        found.complete(reply)
      }
    }
    const { status, body } = await reply
    return c.json(body as object, status as 200)
  })

  app.get('/v1/status', async (c) => {
    deps.authorize(c)
    return c.json(await statusOf(deps))
  })

  app.notFound(notFoundResponse)
  app.onError((err, c) => errorResponse(c, err, deps.log))
  return app
}

async function reissue(deps: ReissueAppDeps, caller: string, request: ReissueRequest): Promise<StoredReply> {
  const outcome = await runReissue(deps, request.outputs ?? deps.outputs, { caller, reason: request.reason })
  return { status: 200, body: outcome }
}

/**
 * A key this process has not seen: the persisted reply if another container finished it, else a
 * reissue whose reply is then persisted. The record failing to read or write never fails the
 * request (it only costs a replay); a conflict found there is a 409 like one found in memory.
 */
async function replayOrReissue(
  deps: ReissueAppDeps,
  caller: string,
  key: string,
  request: ReissueRequest,
): Promise<StoredReply> {
  const replies = deps.replies
  if (replies === undefined) return reissue(deps, caller, request)
  const fingerprint = fingerprintOf(request)
  const found = await replies.find(caller, key, fingerprint).catch((err: unknown) => {
    deps.log.warn('could not read the reissue replies; reissuing', { error: errorText(err) })
    return undefined
  })
  if (found?.kind === 'conflict') throw new IdempotencyConflictError()
  if (found?.kind === 'replay') {
    deps.log.info('reissue replayed from the stored replies', { caller })
    return found.reply
  }
  const reply = await reissue(deps, caller, request)
  await replies.save(caller, key, fingerprint, reply).catch((err: unknown) => {
    deps.log.warn('could not store the reissue reply; a retry elsewhere reissues', { error: errorText(err) })
  })
  return reply
}

function errorText(err: unknown): string {
  return err instanceof Error ? err.message : String(err)
}
