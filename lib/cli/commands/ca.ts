/**
 * CA rotation (lib/ca/rotation.ts), on the local state or through `--auth-server`:
 *   ca status [--type T]
 *   ca rotate --type T [--phase P] [--manual=false] [--grace-period 30h] [--force]
 * Phases: standby → init → update_clients → update_servers → standby, or rollback from any of
 * the middle three. Without `--phase`, `rotate` takes the next step; `--manual=false` makes the
 * auth service step on its own after each grace period.
 */
import { CA_TYPES, type CaType } from '../../ca/authorities.ts'
import type { CaFingerprints, RotationStatus } from '../../ca/rotation.ts'
import { ROTATION_PHASES, type RotationPhase } from '../../ca/rotation-phases.ts'
import { withAdmin } from '../admin/open-backend.ts'
import { booleanFlag, stringFlag } from '../args.ts'
import type { Invocation } from '../command.ts'
import { durationFlag } from '../flag-values.ts'
import { humanSpan, humanTime, relativeTime } from '../human.ts'
import { renderData } from '../output.ts'
import { renderTable } from '../table.ts'
import { UsageError } from '../usage-error.ts'

function caType(inv: Invocation, required: boolean): CaType | undefined {
  const type = stringFlag(inv.flags, 'type')
  if (type === undefined) {
    if (required) throw new UsageError(`ca rotate needs --type (${CA_TYPES.join(', ')})`)
    return undefined
  }
  if (!(CA_TYPES as readonly string[]).includes(type))
    throw new UsageError(`--type: must be one of ${CA_TYPES.join(', ')} (got "${type}")`)
  return type as CaType
}

export async function runCaStatus(inv: Invocation): Promise<number> {
  const type = caType(inv, false)
  const all = await withAdmin(inv, (admin) => admin.caStatus())
  const cas = all.filter((s) => type === undefined || s.type === type)
  inv.io.stdout(renderData(inv.format, cas, () => statusTable(cas, inv.clock.now())))
  return 0
}

export async function runCaRotate(inv: Invocation): Promise<number> {
  const type = caType(inv, true) as CaType
  const phase = stringFlag(inv.flags, 'phase')
  if (phase !== undefined && !(ROTATION_PHASES as readonly string[]).includes(phase))
    throw new UsageError(`--phase: must be one of ${ROTATION_PHASES.join(', ')} (got "${phase}")`)
  const manual = booleanFlag(inv.flags, 'manual')
  const gracePeriodMs = durationFlag(inv.flags, 'grace-period')
  const force = booleanFlag(inv.flags, 'force')
  const status = await withAdmin(inv, (admin) =>
    admin.rotateCa({
      type,
      ...(phase !== undefined && { phase: phase as RotationPhase }),
      ...(manual !== undefined && { manual }),
      ...(gracePeriodMs !== undefined && { gracePeriodMs }),
      ...(force === true && { force }),
    }),
  )
  const now = inv.clock.now()
  inv.io.stdout(
    renderData(inv.format, status, () =>
      [`${status.type} CA: now in ${status.phase} (${status.mode})`, nextStep(status, now)].join('\n'),
    ),
  )
  return 0
}

function nextStep(s: RotationStatus, now: Date): string {
  if (s.next_phase !== undefined && s.next_phase_at !== undefined)
    return `next: ${s.next_phase} ${relativeTime(new Date(s.next_phase_at), now)}`
  if (s.phase === 'standby') return 'next: none (credbroker ca rotate starts a rotation)'
  return `next: credbroker ca rotate --type ${s.type} (manual; grace period ${humanSpan(s.grace_period_seconds * 1000)})`
}

/** `update_clients in 29h 59m`, `manual` (a person takes the next step) or `-` (standby). */
function nextColumn(s: RotationStatus, now: Date): string {
  if (s.next_phase !== undefined && s.next_phase_at !== undefined)
    return `${s.next_phase} ${relativeTime(new Date(s.next_phase_at), now)}`
  return s.phase === 'standby' ? '-' : 'manual'
}

function fingerprints(f: CaFingerprints): string {
  const short = (v: string) => v.replace(/^SHA256:/, '').slice(0, 12)
  return (
    [
      ...(f.tls ? [`tls ${short(f.tls)}`] : []),
      ...(f.ssh ? [`ssh ${short(f.ssh)}`] : []),
      ...(f.jwt ? [`jwt ${short(f.jwt)}`] : []),
    ].join(', ') || '-'
  )
}

function statusTable(cas: readonly RotationStatus[], now: Date): string {
  return renderTable(
    ['CA', 'PHASE', 'MODE', 'SINCE', 'NEXT STEP', 'ACTIVE', 'TRUSTED'],
    cas.map((s) => [
      s.type,
      s.phase,
      s.mode,
      humanTime(s.phase_since, now),
      nextColumn(s, now),
      fingerprints(s.active),
      String(s.trusted.length),
    ]),
  )
}
