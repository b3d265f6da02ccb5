/**
 * What identifies the auth service's events on EventBridge, shared by the publisher
 * (`sink.ts`) and the reissue function that consumes them (`lib/serverless/reissue-event.ts`).
 */

/** The `source` of every event the auth service publishes. */
export const AUTH_EVENT_SOURCE = 'credbroker.auth'

/** The detail field naming the bus the event was published on (EventBridge does not say). */
export const EVENT_BUS_FIELD = 'event_bus'

/** The bus's name, from a name or an ARN (`arn:aws:events:…:event-bus/<name>`). */
export function busName(bus: string): string {
  return bus.includes(':event-bus/') ? (bus.split(':event-bus/')[1] ?? bus) : bus
}
