/**
 * `kind: lock`: denies joins, renewals and issuance to one target until it is deleted or
 * `metadata.expires` passes (the store hides it from that instant on; there is no second expiry
 * field). Exactly one target field is set. `created_by` and `created_at` are informational: the
 * lock commands set them; nothing enforces them. Enforcement: lib/auth/locks.ts.
 *
 * @example
 * kind: lock
 * version: v1
 * metadata: { name: lock-ci-instance }
 * spec:
 *   target: { bot_instance: ci/3f2c0b7e-8d1a-4c56-9e0f-2b7a4d1c9e85 }
 *   message: renewal with an old generation counter
 *   created_by: admin
 *   created_at: "2026-01-01T00:00:00Z"
 */
import * as z from 'zod'
import { instant, resourceName, text, uuid } from './fields.ts'
import { type Conforms, documentSchema } from './metadata.ts'
import type { Lock } from './types.ts'

/** The lock target fields, in the order error messages list them. */
export const LOCK_TARGETS = ['user', 'role', 'bot_instance', 'join_token'] as const

/** `<bot name>/<instance id>`, the way every tool names a bot instance. */
export const botInstanceRef = z.string().refine(
  (value) => {
    const slash = value.indexOf('/')
    return (
      slash > 0 &&
      resourceName.safeParse(value.slice(0, slash)).success &&
      uuid.safeParse(value.slice(slash + 1)).success
    )
  },
  { message: 'must be "<bot name>/<instance id>", such as "ci/3f2c0b7e-8d1a-4c56-9e0f-2b7a4d1c9e85"' },
)

const target = z
  .strictObject({
    user: resourceName.optional(),
    role: resourceName.optional(),
    bot_instance: botInstanceRef.optional(),
    join_token: resourceName.optional(),
  })
  .refine((t) => LOCK_TARGETS.filter((field) => t[field] !== undefined).length === 1, {
    message: `needs exactly one of: ${LOCK_TARGETS.join(', ')}`,
  })

const spec = z.strictObject({
  target,
  message: text(1024, { allowEmpty: true, multiline: true }).default(''),
  created_by: text(256).optional(),
  created_at: instant.optional(),
})

/** The `lock` document schema. */
export const lockSchema = documentSchema('lock', spec)

true satisfies Conforms<typeof lockSchema, Lock>
