/**
 * One run per bot at a time. Scheduled cycles (the daemon, through `CycleGate`) and on-demand
 * reissues (`app.ts`) both go through a {@link RunCoordinator}: runs execute one after another in
 * arrival order, never two at once, so a reissue cannot race a scheduled cycle over the same
 * outputs (or the same storage lease).
 *
 * A reissue may *join* instead of queueing: when a run that is in progress or still waiting
 * covers every output the reissue asks for, the reissue shares that run's result and issues
 * nothing itself. Scheduled cycles never join (they always run, after whatever is ahead).
 *
 * Timeline (S = scheduled cycle of a,b; R1 asks for a; R2 asks for c):
 *
 *     S  ███████████
 *     R1    └─ joins S (a ⊆ {a,b}) ─┘ result = S's
 *     R2    └─ waits ──────────────┘ ████ (its own run, after S)
 *
 * @example
 * const runs = new RunCoordinator()
 * await runs.run({ outputs: ['ssh'], join: true }, () => runCycle(deps, { only: ['ssh'] }))
 */
import type { CycleGate } from '../bot/bot.ts'

interface Entry {
  /** Output names the run renews; `undefined`: unknown (nobody joins it). */
  readonly outputs: ReadonlySet<string> | undefined
  readonly promise: Promise<unknown>
}

export interface RunRequest {
  /** What the run renews; `undefined` when the caller cannot tell (nobody can join it). */
  readonly outputs: readonly string[] | undefined
  /** Share a queued or running run that covers `outputs` instead of starting one. */
  readonly join: boolean
}

export class RunCoordinator implements CycleGate {
  /** Runs not yet settled, in order: the first is running, the others wait. */
  readonly #entries: Entry[] = []
  /** The last run's settlement, which the next run waits for. */
  #tail: Promise<unknown> = Promise.resolve()
  #started = 0
  #joined = 0

  /** Runs started so far (tests and status). */
  get started(): number {
    return this.#started
  }

  /** Requests that shared another run instead of starting one (tests and status). */
  get joined(): number {
    return this.#joined
  }

  /** True while a run is in progress or waiting. */
  get busy(): boolean {
    return this.#entries.length > 0
  }

  /**
   * Runs `body` once every earlier run has settled, or (with `join`) returns the result of an
   * unsettled run that covers `request.outputs`. The body's rejection reaches its callers (and
   * joiners) but does not stop the runs after it.
   */
  run<T>(request: RunRequest, body: () => Promise<T>): Promise<T> {
    if (request.join && request.outputs !== undefined) {
      const wanted = request.outputs
      const match = this.#entries.find(
        (e) => e.outputs !== undefined && wanted.every((o) => e.outputs?.has(o)),
      )
      if (match) {
        this.#joined++
        return match.promise as Promise<T>
      }
    }
    const promise = this.#tail.then(() => {
      this.#started++
      return body()
    })
    const entry: Entry = {
      outputs: request.outputs === undefined ? undefined : new Set(request.outputs),
      promise,
    }
    this.#entries.push(entry)
    const settled = promise.then(
      () => undefined,
      () => undefined,
    )
    this.#tail = settled.then(() => {
      const i = this.#entries.indexOf(entry)
      if (i >= 0) this.#entries.splice(i, 1)
    })
    return promise
  }

  /** {@link CycleGate} for the daemon: a scheduled cycle always runs, after any run ahead of it. */
  scheduled<T>(outputs: readonly string[] | undefined, body: () => Promise<T>): Promise<T> {
    return this.run({ outputs, join: false }, body)
  }
}
