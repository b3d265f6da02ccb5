/** Bot heartbeats: appended to the caller's bot instance (the last HISTORY_LIMIT are kept). */
import { AccessDeniedError, RevisionMismatchError } from '../errors.ts'
import { type Heartbeat, HISTORY_LIMIT } from '../resources/types.ts'
import type { Caller } from './caller.ts'
import type { AuthDeps } from './deps.ts'

export type HeartbeatInput = Omit<Heartbeat, 'recorded_at'>

export async function recordHeartbeat(deps: AuthDeps, caller: Caller, input: HeartbeatInput): Promise<void> {
  const { botName, botInstanceId } = caller.identity
  if (botName === undefined || botInstanceId === undefined)
    throw new AccessDeniedError('only bots send heartbeats')
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
