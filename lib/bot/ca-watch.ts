/**
 * What the bot remembers of the CAs between cycles, to follow a CA rotation: each cycle fetches
 * the CA bundle, whose `rotation` field gives every CA's phase and signing fingerprints, and
 * compares it with the previous cycle's.
 *
 * Every output is reissued when a CA entered `update_clients`, `standby` or `rollback` (as
 * Machine ID does; `init` and `update_servers` change no signing key a bot needs), and also when
 * a CA's signing key changed in any other way — a bot that was down through `update_clients`
 * catches up in `update_servers` instead of waiting for `standby`. The first observation of a
 * process only records: its first cycle renews every output anyway.
 */
import { botsReissueIn, type RotationPhase } from '../ca/rotation-phases.ts'
import type { CaBundleResponse } from './auth-client.ts'

export interface CaChange {
  readonly ca: string
  readonly from: RotationPhase
  readonly to: RotationPhase
  /** Whether the CA's signing key changed. */
  readonly newSigner: boolean
}

export interface CaObservation {
  /** Reissue every output now. */
  readonly reissue: boolean
  readonly changes: readonly CaChange[]
}

type Rotation = NonNullable<CaBundleResponse['rotation']>

export class CaWatch {
  #last: Rotation | undefined

  /** Compares `cas` with the previous observation and remembers it. */
  observe(cas: CaBundleResponse): CaObservation {
    const current = cas.rotation
    const last = this.#last
    if (current) this.#last = current
    if (!current || !last) return { reissue: false, changes: [] }
    const changes: CaChange[] = []
    for (const [ca, now] of Object.entries(current)) {
      const before = last[ca]
      if (!before) continue
      const newSigner = before.tls !== now.tls || before.ssh !== now.ssh || before.jwt !== now.jwt
      if (before.phase !== now.phase || newSigner)
        changes.push({ ca, from: before.phase, to: now.phase, newSigner })
    }
    return { reissue: changes.some((c) => c.newSigner || botsReissueIn(c.to)), changes }
  }
}
