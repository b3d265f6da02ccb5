/**
 * The EventBridge event sink: each event becomes one `PutEvents` entry on the configured bus,
 * with source {@link AUTH_EVENT_SOURCE}, detail-type the event type (`lock.deleted`…) and detail
 * the event's facts plus `event_bus` (the bus it was published on, which the reissue function
 * checks against its own setting). A rule on the bus matches them and invokes whatever should
 * react (the bot's reissue function, a queue, an alarm).
 *
 * IAM: {@link EVENTBRIDGE_SINK_IAM_ACTIONS} (`events:PutEvents`) on the bus's ARN.
 *
 * @example
 * const sink = new EventBridgeSink({ bus: 'credbroker-prod', client })
 * await sink.publish({ type: 'lock.deleted', detail: { lock: 'a1b2', user: 'admin' } })
 */
import type { Clock } from '../../clock.ts'
import { InvalidConfigError, UpstreamUnavailableError } from '../../errors.ts'
import type { EventSink, SinkEvent } from '../../ports/event-sink.ts'
import type { EventBridgeApi } from './client.ts'
import { AUTH_EVENT_SOURCE, busName, EVENT_BUS_FIELD } from './source.ts'

export { EVENTBRIDGE_SINK_IAM_ACTIONS } from './client.ts'

export { AUTH_EVENT_SOURCE, EVENT_BUS_FIELD } from './source.ts'

/** EventBridge's limit on one entry (detail included), in bytes. */
const MAX_ENTRY_BYTES = 256 * 1024

/** A bus name or ARN (PutEvents accepts both). */
const BUS = /^(arn:[\w-]+:events:[a-z0-9-]+:\d{12}:event-bus\/)?[A-Za-z0-9._\-/]{1,256}$/

export interface EventBridgeSinkOptions {
  /** The bus's name or ARN. */
  readonly bus: string
  readonly client: EventBridgeApi
  /** Sets each entry's `Time`; absent: EventBridge's receipt time. */
  readonly clock?: Clock
}

export class EventBridgeSink implements EventSink {
  readonly #bus: string
  readonly #client: EventBridgeApi
  readonly #clock: Clock | undefined

  /** @throws InvalidConfigError (`bus`) for a name EventBridge cannot have. */
  constructor(options: EventBridgeSinkOptions) {
    if (typeof options.bus !== 'string' || !BUS.test(options.bus)) {
      throw new InvalidConfigError('bus', 'must be an EventBridge bus name or ARN')
    }
    this.#bus = options.bus
    this.#client = options.client
    this.#clock = options.clock
  }

  /**
   * @throws TypeError when the event has no type or is too large (programmer errors);
   *   UpstreamUnavailableError when EventBridge is unreachable or refuses the entry.
   */
  async publish(event: SinkEvent): Promise<void> {
    if (typeof event.type !== 'string' || event.type === '' || event.type.length > 128) {
      throw new TypeError('an event needs a type of 1-128 characters')
    }
    const detail = JSON.stringify({ ...event.detail, [EVENT_BUS_FIELD]: busName(this.#bus) })
    if (Buffer.byteLength(detail, 'utf8') > MAX_ENTRY_BYTES - 1024) {
      throw new TypeError(`event ${event.type} is larger than an EventBridge entry allows`)
    }
    const out = await this.#client.putEvents([
      {
        Source: AUTH_EVENT_SOURCE,
        DetailType: event.type,
        Detail: detail,
        EventBusName: this.#bus,
        ...(this.#clock && { Time: Math.floor(this.#clock.now().getTime() / 1000) }),
      },
    ])
    if ((out.FailedEntryCount ?? 0) > 0) {
      const entry = out.Entries?.[0]
      throw new UpstreamUnavailableError(
        `EventBridge did not accept event ${event.type}: ${entry?.ErrorCode ?? 'unknown error'}`,
        { details: { code: entry?.ErrorCode, message: entry?.ErrorMessage } },
      )
    }
  }
}

export { busName } from './source.ts'
