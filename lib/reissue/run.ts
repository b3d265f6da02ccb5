/**
 * One reissue, whoever asked for it (`POST /v1/reissue`, or an auth-service event delivered to
 * the reissue Lambda): renew the named outputs now through the bot's {@link RunCoordinator},
 * joining a queued or running run that covers them, and answer per output.
 */
import type { CycleResult, OutputResult } from '../bot/bot.ts'
import type { Logger } from '../log.ts'
import type { RunCoordinator } from './coordinator.ts'

export type ReissueOutputResult =
  | {
      readonly output: string
      readonly ok: true
      /** The destination's version of the set (a Secrets Manager `VersionId`). */
      readonly version_id: string
      readonly serial: string
      readonly not_after: string
    }
  | { readonly output: string; readonly ok: false; readonly code: string; readonly message: string }

export interface ReissueOutcome {
  readonly ok: boolean
  readonly outputs: readonly ReissueOutputResult[]
}

export interface ReissueRunDeps {
  /** Renews exactly `outputs` (one `runCycle` with `only`, under the storage lease if any). */
  readonly reissue: (outputs: readonly string[]) => Promise<CycleResult>
  readonly runs: RunCoordinator
  readonly log: Logger
}

/**
 * Renews `names` (already checked against the configuration): joins a run that covers them, and
 * renews itself whatever a joined scheduled cycle skipped (renewed just before, so not due).
 * @throws what the cycle throws (the bot identity could not be refreshed: no output attempted).
 */
export async function runReissue(
  deps: ReissueRunDeps,
  names: readonly string[],
  why: { readonly caller: string; readonly reason?: string | undefined },
): Promise<ReissueOutcome> {
  deps.log.info('reissue requested', {
    caller: why.caller,
    outputs: names.join(','),
    ...(why.reason !== undefined && { reason: why.reason }),
  })
  const results = new Map<string, OutputResult>()
  const first = await deps.runs.run({ outputs: names, join: true }, () => deps.reissue(names))
  for (const r of first.outputs) results.set(r.output, r)
  const missing = names.filter((n) => !results.has(n))
  if (missing.length > 0) {
    const second = await deps.runs.run({ outputs: missing, join: false }, () => deps.reissue(missing))
    for (const r of second.outputs) results.set(r.output, r)
  }
  const outputs = names.map((name) => toResult(name, results.get(name)))
  return { ok: outputs.every((o) => o.ok), outputs }
}

function toResult(name: string, r: OutputResult | undefined): ReissueOutputResult {
  if (r === undefined) return { output: name, ok: false, code: 'ERR_INTERNAL', message: 'not renewed' }
  return r.ok
    ? { output: r.output, ok: true, version_id: r.versionId, serial: r.serial, not_after: r.notAfter }
    : { output: r.output, ok: false, code: r.code, message: r.message }
}
