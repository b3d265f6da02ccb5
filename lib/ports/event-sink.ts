/**
 * The event sink port: where the auth service announces changes that bots may want to react to
 * (a lock removed, a role changed, a CA rotation phase), so that a bot can reissue its outputs at
 * once instead of at its next scheduled run.
 *
 * Adapters: `eventbridge` (`PutEvents` on a configured bus, source `credbroker.auth`) and
 * `memory` (records events; tests and the embedded mode). Events never hold secret material.
 */

export interface SinkEvent {
  /** The audit event type: `lock.deleted`, `role.updated`, `ca.rotation`… */
  readonly type: string
  /** JSON-serialisable facts about the change (who, what, when); never secrets. */
  readonly detail: Readonly<Record<string, unknown>>
}

export interface EventSink {
  /**
   * Publishes one event, at most once per call (no retries here: the caller decides).
   * @throws a BrokerError when the event was not accepted (`ERR_UPSTREAM_UNAVAILABLE`): the
   *   caller logs it; publishing never decides the outcome of the change it reports.
   */
  publish(event: SinkEvent): Promise<void>
}
