/**
 * `kind: bot_instance`: one joined copy of a bot, named by a UUID. The auth service writes these
 * (users only read them): `status` records the generation counter, the last committed renewal
 * (what a retry of it must match: docs/RENEWAL.md) and the latest authentications and
 * heartbeats, at most {@link HISTORY_LIMIT} of each, oldest first.
 * `metadata.name` equals `spec.instance_id`; the store key is `bot_instance/<bot>/<id>`.
 */
import * as z from 'zod'
import { awsAccountId } from './aws-fields.ts'
import { hostname, instant, resourceName, text, typeError, uuid } from './fields.ts'
import { type Conforms, documentSchema } from './metadata.ts'
import { joinMethod } from './token.ts'
import { type BotInstance, HISTORY_LIMIT } from './types.ts'

const counter = z
  .number({ error: typeError('expected a whole number') })
  .int('expected a whole number')
  .min(0, 'must not be negative')
  .max(Number.MAX_SAFE_INTEGER, 'is too large')

/** A caller ARN as STS reports it: `arn:` then printable ASCII without spaces, ≤ 2048 characters. */
const awsCallerArn = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .regex(/^arn:[\x21-\x7e]+$/, 'must be an ARN: "arn:" then printable characters without spaces')

const fingerprint = z
  .string()
  .regex(/^[A-Za-z0-9+/=:_-]{1,128}$/, 'must be a key fingerprint such as "SHA256:…"')

const authentication = z.strictObject({
  authenticated_at: instant,
  join_method: joinMethod,
  join_token: resourceName.optional(),
  generation: counter,
  public_key_fingerprint: fingerprint.optional(),
  aws_account: awsAccountId.optional(),
  aws_arn: awsCallerArn.optional(),
})

/** The bot's renewal request id: 16–64 of `[A-Za-z0-9_-]` (the bot sends 32 hex digits). */
export const renewalRequestId = z
  .string({ error: typeError('expected a string') })
  .regex(/^[A-Za-z0-9_-]{16,64}$/, 'must be 16-64 of [A-Za-z0-9_-]')

const lastRenewal = z.strictObject({
  request_id: renewalRequestId,
  generation: counter,
  public_key_fingerprint: fingerprint,
  not_after: instant,
  committed_at: instant,
})

const heartbeat = z.strictObject({
  recorded_at: instant,
  hostname,
  version: text(64),
  one_shot: z.boolean(),
  is_startup: z.boolean(),
  uptime_seconds: counter,
})

function history<T extends z.ZodType>(item: T, itemsName: string) {
  return z
    .array(item, {
      error: typeError(`expected a list of ${itemsName}`),
    })
    .max(HISTORY_LIMIT, `must have at most ${HISTORY_LIMIT} entries; drop the oldest first`)
    .default([])
}

const status = z
  .strictObject({
    generation: counter.default(0),
    last_renewal: lastRenewal.optional(),
    initial_authentication: authentication.optional(),
    latest_authentications: history(authentication, 'authentications'),
    latest_heartbeats: history(heartbeat, 'heartbeats'),
  })
  .default(() => ({ generation: 0, latest_authentications: [], latest_heartbeats: [] }))

const spec = z.strictObject({
  bot_name: resourceName,
  instance_id: uuid,
  previous_instance_id: uuid.optional(),
})

/** The `bot_instance` document schema. */
export const botInstanceSchema = documentSchema('bot_instance', spec)
  .extend({ status })
  .superRefine((doc, ctx) => {
    if (doc.metadata.name !== doc.spec.instance_id) {
      ctx.addIssue({
        code: 'custom',
        path: ['metadata', 'name'],
        message: `must equal spec.instance_id ("${doc.spec.instance_id}")`,
      })
    }
  })

true satisfies Conforms<typeof botInstanceSchema, BotInstance>
