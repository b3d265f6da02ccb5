/**
 * Bot heartbeats: appended to the caller's bot instance (the last HISTORY_LIMIT are kept). A
 * locked caller's heartbeat is refused like any other request, so a locked instance's record
 * shows no sign of life after the lock.
 */
import { AccessDeniedError, RevisionMismatchError } from '../errors.ts'
import { type Heartbeat, HISTORY_LIMIT } from '../resources/types.ts'
import type { Caller } from './caller.ts'
import type { AuthDeps } from './deps.ts'
import { assertCallerNotLocked } from './locks.ts'

export type HeartbeatInput = Omit<Heartbeat, 'recorded_at'>

/**
 * @throws AccessDeniedError for a caller that is not a bot identity; LockedError
 *   (`ERR_ACCESS_DENIED`) when a lock targets it; NotFoundError when its instance record is gone.
 */
export async function recordHeartbeat(deps: AuthDeps, caller: Caller, input: HeartbeatInput): Promise<void> {
  const { botName, botInstanceId } = caller.identity
  if (botName === undefined || botInstanceId === undefined)
    throw new AccessDeniedError('only bots send heartbeats')
  await assertCallerNotLocked(deps, caller)
  const beat: Heartbeat = { ...input, recorded_at: deps.clock.now().toISOString() }
  // A renewal may update the instance concurrently: retry a few times on a revision conflict.
  for (let attempt = 0; ; attempt++) {
    const instance = await deps.resources.get('bot_instance', `${botName}/${botInstanceId}`)
    const next = {
      ...instance,
      status: {
        ...instance.status,
        latest_heartbeats: [...instance.status.latest_heartbeats, beat].slice(-HISTORY_LIMIT),
      },
    }
    try {
      await deps.resources.update(next, { revision: instance.metadata.revision ?? '' })
      return
    } catch (err) {
      if (!(err instanceof RevisionMismatchError) || attempt >= 3) throw err
    }
  }
}
