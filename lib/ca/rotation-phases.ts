/**
 * The phases of a CA rotation and the steps between them — pure: no I/O, no clock.
 *
 * ```
 * standby ─▶ init ─▶ update_clients ─▶ update_servers ─▶ standby   (the new key signs; the old is gone)
 *              │            │                 │
 *              └────────────┴──── rollback ───┴────────▶ standby   (the old key signs; the new is gone)
 * ```
 *
 * | phase            | signs with | trusted    | bots                          |
 * |------------------|------------|------------|-------------------------------|
 * | `standby`        | current    | current    | —                             |
 * | `init`           | old        | old + new  | no reissue (servers learn the new CA first) |
 * | `update_clients` | new        | new + old  | reissue every output          |
 * | `update_servers` | new        | new + old  | no reissue                    |
 * | `rollback`       | old        | old + new  | reissue every output          |
 * | `standby` (done) | the winner | the winner | reissue every output          |
 *
 * Both keys stay trusted from `init` until the rotation returns to `standby`, so a certificate
 * from either key works through the grace period. An automatic rotation (`mode: auto`) steps
 * `init → update_clients → update_servers → standby` (or `rollback → standby` after an operator's
 * rollback), each phase lasting the grace period.
 */
import { RotationPhaseError } from '../errors.ts'

export type RotationPhase = 'standby' | 'init' | 'update_clients' | 'update_servers' | 'rollback'
export const ROTATION_PHASES: readonly RotationPhase[] = [
  'standby',
  'init',
  'update_clients',
  'update_servers',
  'rollback',
]

export type RotationMode = 'manual' | 'auto'

/** Default grace period: how long each phase of an automatic rotation lasts. */
export const DEFAULT_GRACE_PERIOD_MS = 30 * 3600_000
/**
 * Shortest grace period accepted. It is a floor against typos (`30` meaning 30 hours), not a safe
 * value: a safe grace period is at least twice the longest renewal interval of the bots (20
 * minutes by default), which the operator knows and this code does not.
 */
export const MIN_GRACE_PERIOD_MS = 60_000

/** Which phases each phase may step to. */
const ALLOWED: Readonly<Record<RotationPhase, readonly RotationPhase[]>> = {
  standby: ['init'],
  init: ['update_clients', 'rollback'],
  update_clients: ['update_servers', 'rollback'],
  update_servers: ['standby', 'rollback'],
  rollback: ['standby'],
}

/** The phase a rotation goes to when no target is named: the forward path. */
export function nextPhase(phase: RotationPhase): RotationPhase {
  switch (phase) {
    case 'standby':
      return 'init'
    case 'init':
      return 'update_clients'
    case 'update_clients':
      return 'update_servers'
    case 'update_servers':
    case 'rollback':
      return 'standby'
  }
}

/**
 * Checks a step.
 * @throws RotationPhaseError naming the phases that are allowed from `from`.
 */
export function assertStep(caType: string, from: RotationPhase, to: RotationPhase): void {
  if (ALLOWED[from].includes(to)) return
  throw new RotationPhaseError(
    `the ${caType} CA is in phase ${from}; it can go to ${ALLOWED[from].join(' or ')}, not ${to}`,
  )
}

/**
 * What a step does to the CA's two key sets. `keep`: nothing moves; `generate`: a new key set is
 * made and trusted beside the active one (init); `swap`: the trusted key set becomes the active
 * one and the active one stays trusted (update_clients, rollback after update_clients); `retire`:
 * the key sets other than the active one are dropped and their keys destroyed (standby).
 */
export type KeyMove = 'keep' | 'generate' | 'swap' | 'retire'

export function keyMove(from: RotationPhase, to: RotationPhase): KeyMove {
  if (to === 'init') return 'generate'
  if (to === 'standby') return 'retire'
  if (to === 'update_clients') return 'swap'
  // rollback: from init the old key still signs; later the new one does and hands back.
  if (to === 'rollback') return from === 'init' ? 'keep' : 'swap'
  return 'keep'
}

/** Phases in which bots reissue every output (Machine ID skips `init` and `update_servers`). */
export function botsReissueIn(phase: RotationPhase): boolean {
  return phase === 'update_clients' || phase === 'standby' || phase === 'rollback'
}

/** When an automatic rotation in `phase`, entered at `since`, takes its next step. */
export function autoStepAt(phase: RotationPhase, since: Date, gracePeriodMs: number): Date | undefined {
  if (phase === 'standby') return undefined
  return new Date(since.getTime() + gracePeriodMs)
}
