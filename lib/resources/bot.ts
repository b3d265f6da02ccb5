/**
 * `kind: bot`: a machine identity. A bot may impersonate `spec.roles`; `spec.traits` fill role
 * templates (for example the `logins` trait); `spec.max_session_ttl` caps its certificates.
 *
 * @example
 * kind: bot
 * version: v1
 * metadata: { name: example }
 * spec: { roles: [access, machine-id-db] }
 */
import * as z from 'zod'
import { duration, list, nameList, text } from './fields.ts'
import { type Conforms, documentSchema } from './metadata.ts'
import type { Bot } from './types.ts'

const trait = z.strictObject({
  name: z
    .string()
    .regex(
      /^[a-zA-Z0-9_][a-zA-Z0-9_.:-]{0,63}$/,
      'must be 1 to 64 characters from letters, digits, "_", ".", ":" and "-"',
    ),
  values: list(text(256), 64),
})

const spec = z.strictObject({
  roles: nameList,
  traits: list(trait, 32, 'traits').superRefine((traits, ctx) => {
    const seen = new Set<string>()
    traits.forEach((t, index) => {
      if (seen.has(t.name)) {
        ctx.addIssue({ code: 'custom', message: `duplicate trait "${t.name}"`, path: [index, 'name'] })
      }
      seen.add(t.name)
    })
  }),
  max_session_ttl: duration.optional(),
})

/** The `bot` document schema. */
export const botSchema = documentSchema('bot', spec)

true satisfies Conforms<typeof botSchema, Bot>
