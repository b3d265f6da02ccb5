/**
 * The in-memory event sink: keeps every published event in order (tests, the embedded mode), or
 * discards them (`{ keep: false }`, the no-op sink). `failWith` makes publishing fail, to test
 * that a failed publish never fails the change it reports.
 */
import type { EventSink, SinkEvent } from '../../ports/event-sink.ts'

export class MemoryEventSink implements EventSink {
  readonly #keep: boolean
  readonly #events: SinkEvent[] = []
  /** When set, `publish` throws what it returns (and keeps nothing). */
  failWith: (() => Error) | undefined

  constructor(options: { keep?: boolean } = {}) {
    this.#keep = options.keep ?? true
  }

  async publish(event: SinkEvent): Promise<void> {
    if (this.failWith) throw this.failWith()
    if (this.#keep) this.#events.push(structuredClone({ type: event.type, detail: { ...event.detail } }))
  }

  /** The events published so far, oldest first. */
  get events(): readonly SinkEvent[] {
    return this.#events
  }
}
