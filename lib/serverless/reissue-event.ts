/**
 * Auth-service events delivered to the reissue function by direct invoke: an EventBridge rule
 * on the auth service's bus matches the events that may call for new credentials
 * (`PUBLISHED_AUDIT_TYPES`: a lock removed, a role changed, a CA rotation phase) and invokes the
 * function with the event as is. Such an event reissues every output.
 *
 * Only our events get through: source `credbroker.auth`, one of those detail-types, and the
 * detail's `event_bus` equal to the bus the function is configured for (the publisher names its
 * bus there; EventBridge does not put the bus in the event). Anything else is refused before
 * anything runs. The boundary against forged events is the function's resource policy (only the
 * rule may invoke it through EventBridge); these checks keep a misrouted rule on another bus, or
 * another source's events, from starting reissues.
 */
import type { EventBridgeEvent } from 'aws-lambda'
import { AUTH_EVENT_SOURCE, busName, EVENT_BUS_FIELD } from '../adapters/eventbridge/source.ts'
import { isPublishedAuditType } from '../auth/audit.ts'
import { BadRequestError } from '../errors.ts'

export type AuthEventBridgeEvent = EventBridgeEvent<string, unknown>

/** What a refused event was, for the log; never the reason's details to a caller (there is none). */
export class EventRefusedError extends BadRequestError {}

export interface AcceptedAuthEvent {
  /** The audit event type (the detail-type): the reissue's reason. */
  readonly type: string
  readonly id: string | undefined
  readonly time: string | undefined
}

/** True for anything shaped like an EventBridge event (a Function URL event has no `detail-type`). */
export function isEventBridgeEvent(event: unknown): event is AuthEventBridgeEvent {
  return (
    typeof event === 'object' &&
    event !== null &&
    typeof (event as Record<string, unknown>)['detail-type'] === 'string' &&
    typeof (event as Record<string, unknown>).source === 'string'
  )
}

/**
 * @param bus the bus the function accepts events from (`CREDBROKER_REISSUE_EVENT_BUS`); absent:
 *   every event is refused.
 * @throws EventRefusedError saying which check failed.
 */
export function acceptAuthEvent(event: AuthEventBridgeEvent, bus: string | undefined): AcceptedAuthEvent {
  if (bus === undefined)
    throw new EventRefusedError('no event bus is configured (CREDBROKER_REISSUE_EVENT_BUS)')
  if (event.source !== AUTH_EVENT_SOURCE) {
    throw new EventRefusedError(`events from source "${event.source}" do not trigger reissues`)
  }
  const type = event['detail-type']
  if (!isPublishedAuditType(type)) throw new EventRefusedError(`events "${type}" do not trigger reissues`)
  const detail = event.detail
  const from =
    typeof detail === 'object' && detail !== null
      ? (detail as Record<string, unknown>)[EVENT_BUS_FIELD]
      : undefined
  if (from !== busName(bus)) {
    throw new EventRefusedError(`the event was published on bus "${String(from)}", not "${busName(bus)}"`)
  }
  return {
    type,
    id: typeof event.id === 'string' ? event.id : undefined,
    time: typeof event.time === 'string' ? event.time : undefined,
  }
}
