/**
 * `GET /v1/status`: what the bot knows about each output (`OutputSchedule`), its own identity's
 * expiry, the next scheduled run, and whether the auth service answers a ping within a short
 * timeout. A failed output keeps its last error (code and message) until its next success.
 */
import type { OutputSchedule } from '../bot/output-schedule.ts'

export interface StatusDeps {
  /** The configured output names, in configuration order. */
  readonly outputs: readonly string[]
  readonly schedule: OutputSchedule
  /** The auth service's ping (`AuthClient.ping`). */
  readonly ping: () => Promise<unknown>
  /** Default 2000 ms. */
  readonly pingTimeoutMs?: number
  /** The bot identity's expiry, when a run has seen it. */
  readonly identityNotAfter?: () => Date | undefined
  /** When the next scheduled run starts (the daemon knows; a Lambda does not). */
  readonly nextRunAt?: () => Date | undefined
}

export interface OutputStatus {
  readonly output: string
  readonly last_success?: string
  readonly serial?: string
  readonly not_after?: string
  /** The destination's version of the last set written (a Secrets Manager `VersionId`). */
  readonly version_id?: string
  /** From when the schedule renews it again. */
  readonly renew_after?: string
  readonly last_error?: { readonly code: string; readonly message: string; readonly at: string }
}

export interface StatusBody {
  readonly outputs: readonly OutputStatus[]
  readonly identity_not_after?: string
  readonly next_run?: string
  readonly auth_server: { readonly reachable: boolean; readonly error?: string }
}

export async function statusOf(deps: StatusDeps): Promise<StatusBody> {
  const outputs = deps.outputs.map((name): OutputStatus => {
    const s = deps.schedule.get(name)
    return {
      output: name,
      ...(s?.lastSuccessAt !== undefined && { last_success: s.lastSuccessAt }),
      ...(s?.serial !== undefined && { serial: s.serial }),
      ...(s?.notAfter !== undefined && { not_after: s.notAfter }),
      ...(s?.versionId !== undefined && { version_id: s.versionId }),
      ...(s?.renewAfter !== undefined && { renew_after: s.renewAfter }),
      ...(s?.lastError !== undefined && { last_error: s.lastError }),
    }
  })
  const identity = deps.identityNotAfter?.()
  const next = deps.nextRunAt?.()
  return {
    outputs,
    ...(identity && { identity_not_after: identity.toISOString() }),
    ...(next && { next_run: next.toISOString() }),
    auth_server: await reachability(deps.ping, deps.pingTimeoutMs ?? 2000),
  }
}

async function reachability(ping: () => Promise<unknown>, timeoutMs: number) {
  let timer: ReturnType<typeof setTimeout> | undefined
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`no answer within ${timeoutMs} ms`)), timeoutMs)
  })
  try {
    await Promise.race([ping(), timeout])
    return { reachable: true }
  } catch (err) {
    return { reachable: false, error: err instanceof Error ? err.message : String(err) }
  } finally {
    clearTimeout(timer)
  }
}
