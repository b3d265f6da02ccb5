/**
 * The bot's reissue endpoint, as a Hono app (served by the daemon on 127.0.0.1, or behind a
 * Function URL with IAM auth in `lib/serverless/reissue-lambda.ts`).
 *
 * - `POST /v1/reissue` `{ outputs?: string[], reason?: string }` renews the named outputs (all
 *   when absent) now, through the same pipeline as the schedule, and answers per output
 *   `{ output, ok: true, serial, not_after }` or `{ output, ok: false, code, message }`.
 *   Unknown names are refused (400 `ERR_NOT_FOUND`) before anything runs. An `Idempotency-Key`
 *   retry with the same body replays the first answer without issuing; with another body: 409.
 * - `GET /v1/status`: per output the last success, expiry, renewal time and last error; the
 *   bot identity's expiry; whether the auth service answers a ping.
 *
 * Every request is authorized first (`authorize.ts`), so an unauthorized caller gets a generic
 * 401/403 and nothing else; reissues are then rate-limited per caller (429 `ERR_THROTTLED`).
 * Runs go through the bot's {@link RunCoordinator}: never two at once, and a reissue joins a
 * run that covers its outputs.
 */
import { Hono } from 'hono'
import type { CycleResult, OutputResult } from '../bot/bot.ts'
import type { Clock } from '../clock.ts'
import { BadRequestError, ThrottledError } from '../errors.ts'
import { errorResponse, notFoundResponse } from '../http/errors.ts'
import { readBody } from '../http/read-body.ts'
import type { Logger } from '../log.ts'
import type { Authorizer } from './authorize.ts'
import type { RunCoordinator } from './coordinator.ts'
import { IdempotencyConflictError, UnknownOutputsError } from './errors.ts'
import { IdempotencyCache, type StoredReply } from './idempotency.ts'
import { RateLimiter } from './rate-limit.ts'
import { parseReissueRequest, type ReissueRequest } from './request.ts'
import { type StatusDeps, statusOf } from './status.ts'

const MAX_BODY_BYTES = 16 * 1024

export interface ReissueAppDeps extends StatusDeps {
  /** The configured output names, in configuration order. */
  readonly outputs: readonly string[]
  /** Renews exactly `outputs` (one `runCycle` with `only`, under the storage lease if any). */
  readonly reissue: (outputs: readonly string[]) => Promise<CycleResult>
  readonly runs: RunCoordinator
  readonly authorize: Authorizer
  readonly clock: Clock
  readonly log: Logger
  /** Default: 6 reissues per minute per caller. */
  readonly limiter?: RateLimiter
  /** Default: 24 h, 1000 keys. */
  readonly idempotency?: IdempotencyCache
}

export type ReissueOutputResult =
  | { readonly output: string; readonly ok: true; readonly serial: string; readonly not_after: string }
  | { readonly output: string; readonly ok: false; readonly code: string; readonly message: string }

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
        reply = reissue(deps, caller.id, request)
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
  const names = request.outputs ?? deps.outputs
  deps.log.info('reissue requested', {
    caller,
    outputs: names.join(','),
    ...(request.reason !== undefined && { reason: request.reason }),
  })
  const results = new Map<string, OutputResult>()
  const first = await deps.runs.run({ outputs: names, join: true }, () => deps.reissue(names))
  for (const r of first.outputs) results.set(r.output, r)
  // A joined scheduled cycle may have skipped an output (renewed just before): renew it ourselves.
  const missing = names.filter((n) => !results.has(n))
  if (missing.length > 0) {
    const second = await deps.runs.run({ outputs: missing, join: false }, () => deps.reissue(missing))
    for (const r of second.outputs) results.set(r.output, r)
  }
  const outputs = names.map((name) => toResult(name, results.get(name)))
  return { status: 200, body: { ok: outputs.every((o) => o.ok), outputs } }
}

function toResult(name: string, r: OutputResult | undefined): ReissueOutputResult {
  if (r === undefined) return { output: name, ok: false, code: 'ERR_INTERNAL', message: 'not renewed' }
  return r.ok
    ? { output: r.output, ok: true, serial: r.serial, not_after: r.notAfter }
    : { output: r.output, ok: false, code: r.code, message: r.message }
}
