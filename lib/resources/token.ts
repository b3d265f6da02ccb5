/**
 * `kind: token`: a join token for a bot.
 *
 * - `join_method: token`: the name is a single-use secret. `spec.allow` must be empty, and
 *   `metadata.expires` is required, so a leaked secret is useless after its short TTL.
 * - `join_method: iam`: the name is not secret. `spec.allow` lists at least one rule, and each
 *   rule names an `aws_account`, an `aws_arn` glob, or both; a join must match every field of
 *   one rule.
 *
 * @example
 * kind: token
 * version: v1
 * metadata: { name: example-iam }
 * spec:
 *   join_method: iam
 *   bot_name: example
 *   allow: [{ aws_account: "123456789012", aws_arn: "arn:aws:sts::123456789012:assumed-role/ci/*" }]
 */
import * as z from 'zod'
import { arnGlob, awsAccountId } from './aws-fields.ts'
import { list, resourceName } from './fields.ts'
import { type Conforms, documentSchema } from './metadata.ts'
import type { JoinMethod, Token } from './types.ts'

/** Join methods, in the order error messages list them. */
export const JOIN_METHODS: readonly JoinMethod[] = ['token', 'iam']

/** `token` or `iam`. */
export const joinMethod = z.enum(['token', 'iam'])

const iamRule = z
  .strictObject({ aws_account: awsAccountId.optional(), aws_arn: arnGlob.optional() })
  .refine((rule) => rule.aws_account !== undefined || rule.aws_arn !== undefined, {
    message: 'an allow rule needs "aws_account", "aws_arn" or both',
  })

const spec = z.strictObject({
  join_method: joinMethod,
  bot_name: resourceName,
  allow: list(iamRule, 64, 'allow rules'),
})

/** The `token` document schema. */
export const tokenSchema = documentSchema('token', spec).superRefine((doc, ctx) => {
  const { join_method, allow } = doc.spec
  if (join_method === 'iam' && allow.length === 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['spec', 'allow'],
      message: 'an "iam" token needs at least one allow rule (aws_account and/or aws_arn)',
    })
  }
  if (join_method === 'token' && allow.length > 0) {
    ctx.addIssue({
      code: 'custom',
      path: ['spec', 'allow'],
      message: 'must be empty for join_method "token" (allow rules only apply to "iam")',
    })
  }
  if (join_method === 'token' && doc.metadata.expires === undefined) {
    ctx.addIssue({
      code: 'custom',
      path: ['metadata', 'expires'],
      message: 'is required for join_method "token": a join secret must expire',
    })
  }
})

true satisfies Conforms<typeof tokenSchema, Token>
