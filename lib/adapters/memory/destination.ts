/**
 * The in-memory destination: tests, the embedded mode and bots whose outputs are consumed in the
 * same process. It keeps nothing across restarts.
 *
 * Atomicity is by construction: a write builds the new set completely, then swaps one reference,
 * so a reader holds either the old set or the new one. Concurrent writes cannot interleave
 * (JavaScript runs the swap without yielding); the last swap wins.
 */
import {
  type ArtifactContent,
  assertArtifactName,
  type Destination,
  prepareArtifacts,
  type WriteMeta,
  type WriteResult,
} from '../../ports/destination.ts'

export interface MemoryDestinationOptions {
  /** Shown by `describe()` (`memory ci-ssh`), to tell several memory destinations apart in logs. */
  label?: string
}

export class MemoryDestination implements Destination {
  readonly #label: string | undefined
  #current: ReadonlyMap<string, Uint8Array> = new Map()
  #issuanceId: string | undefined
  /** Writes so far: the version id of the current set. */
  #version = 0

  constructor(options: MemoryDestinationOptions = {}) {
    this.#label = options.label
  }

  /** @returns `{ versionId }`: a counter (`1`, `2`, …); every write is a new version. */
  async write(artifacts: ReadonlyMap<string, ArtifactContent>, meta?: WriteMeta): Promise<WriteResult> {
    const next = prepareArtifacts(artifacts, meta)
    this.#current = next
    this.#issuanceId = meta?.issuanceId
    this.#version++
    return { versionId: String(this.#version) }
  }

  async read(name: string): Promise<Uint8Array | undefined> {
    assertArtifactName(name)
    const value = this.#current.get(name)
    return value === undefined ? undefined : new Uint8Array(value)
  }

  async readAll(): Promise<Map<string, Uint8Array>> {
    const out = new Map<string, Uint8Array>()
    for (const [name, value] of this.#current) out.set(name, new Uint8Array(value))
    return out
  }

  /** The `issuanceId` of the current set's write, if it had one (for tests and diagnostics). */
  get issuanceId(): string | undefined {
    return this.#issuanceId
  }

  describe(): string {
    return this.#label === undefined ? 'memory' : `memory ${this.#label}`
  }
}
