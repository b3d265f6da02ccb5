/**
 * CA rotation: stepping a CA through its phases (`rotation-phases.ts`) in the state store, and
 * reporting where each CA is.
 *
 * Each step is one compare-and-swap of the CA's record, so two operators (or an operator and an
 * automatic step) never both apply a step: the loser gets `ERR_REVISION_MISMATCH` and nothing
 * changes. A step that makes keys (`init`) destroys them again when its write loses; a step that
 * retires keys (`standby`) destroys them only after its write won. Auth processes pick the new
 * record up within their refresh interval (`authority-cache.ts`).
 */
import { X509Certificate } from 'node:crypto'
import { recordAudit } from '../auth/audit.ts'
import {
  BadRequestError,
  InvalidConfigError,
  NotFoundError,
  RevisionMismatchError,
  RotationPhaseError,
  StoreUnavailableError,
} from '../errors.ts'
import type { Logger } from '../log.ts'
import type { EventSink } from '../ports/event-sink.ts'
import {
  type AuthoritiesDeps,
  CA_TYPES,
  type CaKeySetRecord,
  type CaRecord,
  type CaRotationRecord,
  type CaType,
  caKey,
  keySetRefs,
  newKeySet,
  readCaRecord,
  rotationOf,
} from './authorities.ts'
import { caCertFingerprint, sshKeyFingerprint } from './fingerprint.ts'
import {
  assertStep,
  autoStepAt,
  DEFAULT_GRACE_PERIOD_MS,
  keyMove,
  MIN_GRACE_PERIOD_MS,
  nextPhase,
  type RotationMode,
  type RotationPhase,
} from './rotation-phases.ts'

export interface RotationDeps extends AuthoritiesDeps {
  readonly log: Logger
  /** Where `ca.rotation` audit events are published (reissue triggers); optional. */
  readonly events?: EventSink
}

export interface RotateRequest {
  readonly type: CaType
  /** The phase to go to; absent: the next phase of the forward path. */
  readonly phase?: RotationPhase
  /** `false`: step automatically after each grace period; absent: keep the current mode. */
  readonly manual?: boolean
  /** How long each phase of an automatic rotation lasts; absent: the current or the default. */
  readonly gracePeriodMs?: number
  /**
   * Ends a rotation (`standby`) before the new signer has signed for a whole grace period, which
   * strands every bot that has not renewed since (see {@link assertSignerSettled}).
   */
  readonly force?: boolean
  /** Who asks (audited). */
  readonly user: string
}

/** Fingerprints of one key set: SHA-256 of the CA certificate (hex), the SSH key (`SHA256:…`), the JWK `kid`. */
export interface CaFingerprints {
  readonly tls?: string
  readonly ssh?: string
  readonly jwt?: string
}

export interface RotationStatus {
  readonly type: CaType
  readonly phase: RotationPhase
  readonly mode: RotationMode
  readonly grace_period_seconds: number
  /** When the current phase began. */
  readonly phase_since: string
  readonly started_at?: string
  readonly last_rotated_at?: string
  /** The step an automatic rotation takes next, and when. */
  readonly next_phase?: RotationPhase
  readonly next_phase_at?: string
  /** The signing key set. */
  readonly active: CaFingerprints
  /** Every trusted key set, the active one first. */
  readonly trusted: readonly CaFingerprints[]
}

/** Where every CA is in its rotation (CAs not created yet are left out). */
export async function rotationStatus(deps: Pick<AuthoritiesDeps, 'store'>): Promise<RotationStatus[]> {
  const stored = await Promise.all(CA_TYPES.map((type) => readCaRecord(deps.store, type)))
  return stored.flatMap((s) => (s ? [statusOf(s.record)] : []))
}

/**
 * Takes one rotation step for one CA and returns its new status.
 * @throws RotationPhaseError when the current phase does not allow the step; NotFoundError when
 *   the CA does not exist; RevisionMismatchError when another step won the race; BadRequestError
 *   for a grace period under a minute; InvalidConfigError when the key store hands back the key
 *   in use instead of a new one (a KMS key store without a key for the new label).
 */
export async function rotateCa(deps: RotationDeps, request: RotateRequest): Promise<RotationStatus> {
  const { type } = request
  if (request.gracePeriodMs !== undefined && request.gracePeriodMs < MIN_GRACE_PERIOD_MS) {
    throw new BadRequestError(`the grace period must be at least ${MIN_GRACE_PERIOD_MS / 1000} seconds`)
  }
  const stored = await readCaRecord(deps.store, type)
  if (!stored) throw new NotFoundError(`the ${type} CA does not exist yet: start the auth service once`)
  const { record, revision } = stored
  const from = rotationOf(record)
  const to = request.phase ?? nextPhase(from.phase)
  assertStep(type, from.phase, to)
  const starting = from.phase === 'standby'
  const gracePeriodMs = request.gracePeriodMs ?? (starting ? DEFAULT_GRACE_PERIOD_MS : from.grace_period_ms)
  if (to === 'standby' && !request.force) assertSignerSettled(type, from, gracePeriodMs, deps.clock.now())
  const step = await applyStep(deps, record, from, {
    to,
    // A new rotation is manual unless asked otherwise: the last one's mode does not carry over.
    mode:
      request.manual === undefined ? (starting ? 'manual' : from.mode) : request.manual ? 'manual' : 'auto',
    gracePeriodMs,
  })
  try {
    await deps.store.compareAndSwap(caKey(type), revision, JSON.stringify(step.record))
  } catch (err) {
    await destroy(deps, step.made)
    if (err instanceof RevisionMismatchError) {
      throw new RevisionMismatchError(
        `the ${type} CA changed while stepping it to ${to}: check the status and try again`,
        { cause: err },
      )
    }
    throw err
  }
  await destroy(deps, step.retired)
  await recordAudit(deps, {
    type: 'ca.rotation',
    user: request.user,
    success: true,
    fields: { ca_type: type, from: from.phase, to, mode: rotationOf(step.record).mode },
  })
  return statusOf(step.record)
}

/**
 * Takes the steps of automatic rotations that are due at the clock's now, one per CA. A step
 * another process took first is not an error. Returns the CAs that stepped.
 */
export async function stepDueRotations(deps: RotationDeps): Promise<CaType[]> {
  const now = deps.clock.now()
  const stepped: CaType[] = []
  for (const status of await rotationStatus(deps)) {
    if (status.mode !== 'auto' || status.next_phase === undefined || status.next_phase_at === undefined)
      continue
    if (Date.parse(status.next_phase_at) > now.getTime()) continue
    try {
      await rotateCa(deps, { type: status.type, phase: status.next_phase, user: 'credbroker-auto-rotation' })
      stepped.push(status.type)
    } catch (err) {
      if (!(err instanceof RevisionMismatchError)) throw err
    }
  }
  return stepped
}

/**
 * Refuses to end a rotation before the key that signs has signed for a grace period: until then,
 * a bot that has not renewed still holds certificates (its own identity included) from the key
 * `standby` stops trusting, and a token-joined bot would need a new join token.
 * @throws RotationPhaseError naming when the step becomes possible.
 */
function assertSignerSettled(type: CaType, from: CaRotationRecord, gracePeriodMs: number, now: Date): void {
  if (from.signer_since === undefined) return // the signer never changed in this rotation
  const settled = Date.parse(from.signer_since) + gracePeriodMs
  if (now.getTime() >= settled) return
  throw new RotationPhaseError(
    `the ${type} CA's signing key changed at ${from.signer_since}; ending the rotation before ` +
      `${new Date(settled).toISOString()} (one grace period later) stops trusting certificates that ` +
      'bots may not have renewed yet: wait, or force the step',
  )
}

interface StepResult {
  readonly record: CaRecord
  /** Key references made by this step (destroyed if the write loses). */
  readonly made: readonly string[]
  /** Key references this step stops trusting (destroyed once the write wins). */
  readonly retired: readonly string[]
}

async function applyStep(
  deps: RotationDeps,
  record: CaRecord,
  from: CaRotationRecord,
  target: { to: RotationPhase; mode: RotationMode; gracePeriodMs: number },
): Promise<StepResult> {
  const now = deps.clock.now().toISOString()
  const rotation: CaRotationRecord = {
    ...from,
    phase: target.to,
    mode: target.mode,
    grace_period_ms: target.gracePeriodMs,
    phase_since: now,
  }
  const move = keyMove(from.phase, target.to)
  switch (move) {
    case 'generate': {
      const generation = from.generation + 1
      const fresh = await newKeySet(deps, record.type, generation)
      const made = keySetRefs(fresh)
      const reused = made.filter((ref) => keySetRefs(record.active).includes(ref))
      if (reused.length > 0) {
        await destroy(
          deps,
          made.filter((ref) => !reused.includes(ref)),
        )
        throw new InvalidConfigError(
          'keys',
          `the key store returned the ${record.type} CA's current key for its new key set (generation ` +
            `${generation}); a rotation needs new keys: configure keys for the labels ` +
            `${record.type}-*-${generation} or let the key store create keys`,
        )
      }
      return {
        record: {
          ...record,
          additional_trusted: [fresh],
          rotation: { ...rotation, generation, started_at: now },
        },
        made,
        retired: [],
      }
    }
    case 'swap': {
      const other = onlyOther(record)
      return {
        record: {
          ...record,
          active: other,
          additional_trusted: [record.active],
          rotation: { ...rotation, signer_since: now },
        },
        made: [],
        retired: [],
      }
    }
    case 'retire': {
      const { started_at: _, signer_since: __, ...done } = rotation
      return {
        record: { ...record, additional_trusted: [], rotation: { ...done, last_rotated_at: now } },
        made: [],
        retired: record.additional_trusted.flatMap(keySetRefs),
      }
    }
    case 'keep':
      return { record: { ...record, rotation }, made: [], retired: [] }
  }
}

/** The one other trusted key set of a rotation in progress. */
function onlyOther(record: CaRecord): CaKeySetRecord {
  const [other, ...rest] = record.additional_trusted
  if (!other || rest.length > 0) {
    throw new StoreUnavailableError(
      `the ${record.type} CA record is inconsistent: a rotation in progress needs exactly one other key set`,
    )
  }
  return other
}

/** Destroys keys, logging (never throwing) failures: a leftover key is not worth failing a step. */
async function destroy(deps: RotationDeps, refs: readonly string[]): Promise<void> {
  const results = await Promise.allSettled(refs.map((ref) => deps.keys.delete(ref)))
  for (const result of results) {
    if (result.status === 'rejected') {
      deps.log.warn('could not destroy a retired CA key', { error: String(result.reason) })
    }
  }
}

export function statusOf(record: CaRecord): RotationStatus {
  const rotation = rotationOf(record)
  const due =
    rotation.mode === 'auto'
      ? autoStepAt(rotation.phase, new Date(rotation.phase_since), rotation.grace_period_ms)
      : undefined
  return {
    type: record.type,
    phase: rotation.phase,
    mode: rotation.mode,
    grace_period_seconds: Math.round(rotation.grace_period_ms / 1000),
    phase_since: rotation.phase_since,
    ...(rotation.started_at !== undefined && { started_at: rotation.started_at }),
    ...(rotation.last_rotated_at !== undefined && { last_rotated_at: rotation.last_rotated_at }),
    ...(due && { next_phase: nextPhase(rotation.phase), next_phase_at: due.toISOString() }),
    active: fingerprintsOf(record.active),
    trusted: [record.active, ...record.additional_trusted].map(fingerprintsOf),
  }
}

/** Fingerprints of one key set, as `ca status` shows them and bots compare them. */
export function fingerprintsOf(set: CaKeySetRecord): CaFingerprints {
  return {
    ...(set.tls && { tls: caCertFingerprint(new X509Certificate(set.tls.cert_pem).raw) }),
    ...(set.ssh && { ssh: sshKeyFingerprint(set.ssh.public_key) }),
    ...(set.jwt && { jwt: set.jwt.kid }),
  }
}
