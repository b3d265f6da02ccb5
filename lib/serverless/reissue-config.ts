/**
 * The reissue Lambda's configuration: the rotate Lambda's (`rotate-config.ts`: the bot config and
 * its overrides) plus who may call it.
 *
 * The variables it reads besides the rotate function's, with their meaning and defaults, are
 * {@link REISSUE_LAMBDA_ENV} (rendered into docs/CONFIGURATION.md by `npm run docs:config`).
 */
import {
  type Env,
  type EnvVariable,
  integerIn,
  optionalString,
  optionalUrl,
  requiredString,
} from '../config/env.ts'
import { InvalidConfigError } from '../errors.ts'
import { deepFreeze } from '../freeze.ts'
import { loadRotateLambdaConfig, type RotateLambdaConfig } from './rotate-config.ts'

/** The variables only the reissue function reads (it reads the rotate function's too). */
export const REISSUE_LAMBDA_ENV: readonly EnvVariable[] = [
  {
    name: 'CREDBROKER_REISSUE_ALLOWED_ARNS',
    meaning: 'comma-separated ARN globs of the IAM principals allowed to call (required, at least one)',
  },
  {
    name: 'CREDBROKER_REISSUE_PER_MINUTE',
    meaning: 'reissues per minute per caller (1 to 600)',
    default: '`6`',
  },
  {
    name: 'CREDBROKER_PUBLIC_ADDR',
    meaning: 'the origin callers address, when a custom domain is in front of the Function URL',
    default: 'the Function URL',
  },
  {
    name: 'CREDBROKER_REISSUE_REPLIES_SECRET',
    meaning:
      'Secrets Manager secret keeping finished replies by `Idempotency-Key`, so a retry that reaches another container replays',
    default: 'none: replies are kept in memory only',
  },
  {
    name: 'CREDBROKER_REISSUE_EVENT_BUS',
    meaning:
      'the EventBridge bus whose auth-service events (`lock.deleted`, `role.*`, `ca.rotation`) trigger a reissue of every output when delivered by direct invoke',
    default: 'none: events are refused',
  },
]

export interface ReissueLambdaConfig extends RotateLambdaConfig {
  readonly allowedArns: readonly string[]
  readonly perMinute: number
  readonly publicOrigin?: string
  /** The secret holding finished replies (`lib/reissue/reply-record.ts`). */
  readonly repliesSecret?: string
  /** The only bus whose events are accepted (`lib/serverless/reissue-event.ts`). */
  readonly eventBus?: string
}

/** A Secrets Manager secret name. */
const SECRET_NAME = /^[A-Za-z0-9/_+=.@-]{1,512}$/
/** An EventBridge bus name (or ARN). */
const EVENT_BUS = /^[A-Za-z0-9._\-/:]{1,1600}$/

export function loadReissueLambdaConfig(env: Env, cwd: string): ReissueLambdaConfig {
  const allowedArns = parseAllowedArns(
    requiredString(env, 'CREDBROKER_REISSUE_ALLOWED_ARNS', 'to name the IAM principals allowed to reissue'),
  )
  const origin = optionalUrl(env, 'CREDBROKER_PUBLIC_ADDR')
  const repliesSecret = optionalString(env, 'CREDBROKER_REISSUE_REPLIES_SECRET')
  if (repliesSecret !== undefined && !SECRET_NAME.test(repliesSecret)) {
    throw new InvalidConfigError('CREDBROKER_REISSUE_REPLIES_SECRET', 'must be a Secrets Manager secret name')
  }
  const eventBus = optionalString(env, 'CREDBROKER_REISSUE_EVENT_BUS')
  if (eventBus !== undefined && !EVENT_BUS.test(eventBus)) {
    throw new InvalidConfigError('CREDBROKER_REISSUE_EVENT_BUS', 'must be an EventBridge bus name')
  }
  return deepFreeze({
    ...loadRotateLambdaConfig(env, cwd),
    allowedArns,
    perMinute: integerIn(env, 'CREDBROKER_REISSUE_PER_MINUTE', 1, 600, 6),
    ...(origin && { publicOrigin: origin.origin }),
    ...(repliesSecret !== undefined && { repliesSecret }),
    ...(eventBus !== undefined && { eventBus }),
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
