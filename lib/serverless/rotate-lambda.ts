/**
 * The scheduled bot as a Lambda handler: every invocation (an EventBridge schedule, or a manual
 * invoke) is one bot cycle — join with the function's IAM role (or renew a stored identity),
 * impersonate each output's roles, write each output's secret.
 *
 * One failing output never stops the others. The structured result is logged as one JSON line
 * and returned; if any output failed the invocation then fails ({@link RotateFailedError}), so
 * the schedule's retries, the function's error metric and its alarms see it.
 */
import { X509Certificate } from 'node:crypto'
import type { CycleResult } from '../bot/bot.ts'
import { BrokerError } from '../errors.ts'
import { decodeIdentity } from '../identity/x509-encoding.ts'
import { createLambdaBot, type LambdaBotDeps } from './lambda-bot.ts'
import type { RotateLambdaConfig } from './rotate-config.ts'

export interface RotateOutcome {
  readonly ok: boolean
  readonly bot: string
  readonly bot_instance_id: string
  readonly outputs: ReadonlyArray<
    | {
        readonly output: string
        readonly ok: true
        readonly destination: string
        /** The destination's version of the set (the secret's `VersionId`). */
        readonly version_id: string
        readonly serial: string
        readonly not_after: string
      }
    | {
        readonly output: string
        readonly ok: false
        readonly destination: string
        readonly code: string
        readonly message: string
      }
  >
}

/** The invocation failed because at least one output did; `outcome` says which. */
export class RotateFailedError extends BrokerError {
  override readonly code = 'ERR_OUTPUTS_FAILED' as const
  override readonly status = 502 as const
  readonly outcome: RotateOutcome
  constructor(outcome: RotateOutcome) {
    const failed = outcome.outputs.filter((o) => !o.ok).map((o) => `${o.output} (${o.ok ? '' : o.code})`)
    super(`${failed.length} of ${outcome.outputs.length} outputs failed: ${failed.join(', ')}`)
    this.outcome = outcome
  }
}

/** What the rotate handler needs: see {@link LambdaBotDeps}. */
export type RotateLambdaDeps = LambdaBotDeps

export function createRotateHandler(config: RotateLambdaConfig, deps: RotateLambdaDeps) {
  const bot = createLambdaBot(config, deps)

  return async (event: unknown): Promise<RotateOutcome> => {
    deps.log.info('rotation started', describeEvent(event))
    const result = await bot.run()
    const outcome = summarize(result)
    deps.log.info(`rotation ${outcome.ok ? 'succeeded' : 'failed'}`, { result: JSON.stringify(outcome) })
    if (!outcome.ok) throw new RotateFailedError(outcome)
    return outcome
  }
}

function summarize(result: CycleResult): RotateOutcome {
  const outputs = result.outputs.map((o) =>
    o.ok
      ? {
          output: o.output,
          ok: true as const,
          destination: o.destination,
          version_id: o.versionId,
          serial: o.serial,
          not_after: o.notAfter,
        }
      : {
          output: o.output,
          ok: false as const,
          destination: o.destination,
          code: o.code,
          message: o.message,
        },
  )
  return {
    ok: outputs.every((o) => o.ok),
    bot: botName(result.identity.tlsCertPem),
    bot_instance_id: result.identity.botInstanceId,
    outputs,
  }
}

/** The bot's name, from the identity certificate it acts with. */
function botName(tlsCertPem: string): string {
  return decodeIdentity(new X509Certificate(tlsCertPem).raw).botName ?? 'unknown'
}

/** What the log says about the trigger: a schedule's rule and time, or a manual invoke. */
function describeEvent(event: unknown): Record<string, string | undefined> {
  if (typeof event !== 'object' || event === null) return { trigger: 'invoke' }
  const e = event as Record<string, unknown>
  const text = (v: unknown) => (typeof v === 'string' ? v : undefined)
  return {
    trigger: text(e['detail-type']) ?? text(e.source) ?? 'invoke',
    event_id: text(e.id),
    scheduled_time: text(e.time),
  }
}
