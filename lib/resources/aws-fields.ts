/**
 * AWS identifiers in resource documents: account ids, IAM role ARNs (what a role lets a bot
 * assume) and ARN globs (what an `iam` join token accepts).
 */
import * as z from 'zod'

/** AWS partitions: `aws`, `aws-cn`, `aws-us-gov`, `aws-iso`, `aws-iso-b`, … */
const PARTITION = 'aws(?:-[a-z]+)*'

/**
 * A 12-digit AWS account id. It must be a string: an unquoted `012345678901` in YAML is the
 * number 12345678901, which has lost its leading zero, so numbers are refused with a hint.
 */
export const awsAccountId = z
  .string({
    error: (iss) =>
      iss.code === 'invalid_type' && typeof iss.input === 'number'
        ? 'expected a 12-digit string; quote AWS account ids in YAML ("012345678901")'
        : undefined,
  })
  .regex(/^\d{12}$/, 'must be a 12-digit AWS account id')

/**
 * An IAM role ARN, `arn:<partition>:iam::<account>:role/<path/><name>`, exactly (no wildcards):
 * certificates carry these ARNs and the AWS credential output assumes them.
 */
export const iamRoleArn = z
  .string()
  .regex(
    new RegExp(`^arn:${PARTITION}:iam::\\d{12}:role/(?:[\\w+=,.@-]+/)*[\\w+=,.@-]{1,64}$`),
    'must be an IAM role ARN such as "arn:aws:iam::123456789012:role/example"',
  )

/**
 * An ARN glob for `iam` join allow rules: an ARN (`arn:` then printable ASCII without spaces, at
 * most 2048 characters) where `*` matches any run of characters and `?` exactly one. Matching is
 * anchored at both ends (see `IamAllowRule` in `types.ts`).
 */
export const arnGlob = z
  .string()
  .max(2048, 'must be at most 2048 characters')
  .regex(
    /^arn:[\x21-\x7e]+$/,
    'must be an ARN (glob) such as "arn:aws:sts::123456789012:assumed-role/ci/*": "arn:" then printable characters without spaces',
  )
