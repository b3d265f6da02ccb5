/**
 * The reissue Lambda's configuration: the rotate Lambda's (`rotate-config.ts`: the bot config and
 * its overrides) plus who may call it.
 *
 * | variable                          | meaning                                                        |
 * |-----------------------------------|----------------------------------------------------------------|
 * | `CREDBROKER_REISSUE_ALLOWED_ARNS` | comma-separated ARN globs (`lib/rbac/glob.ts`) of the IAM      |
 * |                                   | principals allowed to call; required, at least one            |
 * | `CREDBROKER_REISSUE_PER_MINUTE`   | reissues per minute per caller (default 6)                     |
 * | `CREDBROKER_PUBLIC_ADDR`          | the URL callers address, when behind a custom domain           |
 */
import { type Env, integerIn, optionalUrl, requiredString } from '../config/env.ts'
import { InvalidConfigError } from '../errors.ts'
import { deepFreeze } from '../freeze.ts'
import { loadRotateLambdaConfig, type RotateLambdaConfig } from './rotate-config.ts'

export interface ReissueLambdaConfig extends RotateLambdaConfig {
  readonly allowedArns: readonly string[]
  readonly perMinute: number
  readonly publicOrigin?: string
}

export function loadReissueLambdaConfig(env: Env, cwd: string): ReissueLambdaConfig {
  const allowedArns = parseAllowedArns(
    requiredString(env, 'CREDBROKER_REISSUE_ALLOWED_ARNS', 'to name the IAM principals allowed to reissue'),
  )
  const origin = optionalUrl(env, 'CREDBROKER_PUBLIC_ADDR')
  return deepFreeze({
    ...loadRotateLambdaConfig(env, cwd),
    allowedArns,
    perMinute: integerIn(env, 'CREDBROKER_REISSUE_PER_MINUTE', 1, 600, 6),
    ...(origin && { publicOrigin: origin.origin }),
  })
}

/** @throws InvalidConfigError when the list is empty or holds something that is not an ARN glob. */
export function parseAllowedArns(text: string): string[] {
  const patterns = text
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p !== '')
  if (patterns.length === 0)
    throw new InvalidConfigError('CREDBROKER_REISSUE_ALLOWED_ARNS', 'must list at least one ARN pattern')
  for (const p of patterns) {
    if (!p.startsWith('arn:'))
      throw new InvalidConfigError('CREDBROKER_REISSUE_ALLOWED_ARNS', `"${p}" is not an ARN pattern (arn:…)`)
  }
  return patterns
}
