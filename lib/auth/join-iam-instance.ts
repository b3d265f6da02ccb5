/** Bot instances of `iam` joins: a new one per fresh join, or the same one for a PoP re-join. */
import { NotFoundError, RevisionMismatchError } from '../errors.ts'
import { botUser } from '../identity/identity.ts'
import { type Authentication, type BotInstance, HISTORY_LIMIT } from '../resources/types.ts'
import type { Caller } from './caller.ts'
import type { AuthDeps } from './deps.ts'

/** The instance a still-valid identity of the same bot proves it holds, if it still exists. */
export async function reusableInstance(
  deps: AuthDeps,
  botName: string,
  previous: Caller | undefined,
): Promise<BotInstance | undefined> {
  const id = previous?.identity
  if (!id || id.botName !== botName || id.botInstanceId === undefined) return undefined
  if (id.user !== botUser(botName) || id.impersonator !== undefined || id.disallowReissue) return undefined
  return deps.resources.get('bot_instance', `${botName}/${id.botInstanceId}`).catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined
    throw err
  })
}

export function newInstance(
  botName: string,
  instanceId: string,
  auth: Authentication,
  expires: Date,
): BotInstance {
  return {
    kind: 'bot_instance',
    version: 'v1',
    metadata: { name: instanceId, labels: {}, expires: expires.toISOString() },
    spec: { bot_name: botName, instance_id: instanceId },
    status: {
      generation: 0,
      initial_authentication: auth,
      latest_authentications: [auth],
      latest_heartbeats: [],
    },
  }
}

/** Appends to the instance's history; retries a few times when a heartbeat races the update. */
export async function appendAuthentication(
  deps: AuthDeps,
  first: BotInstance,
  auth: Authentication,
  expires: Date,
): Promise<BotInstance> {
  let current = first
  for (let attempt = 1; ; attempt++) {
    const previousExpiry = current.metadata.expires === undefined ? 0 : Date.parse(current.metadata.expires)
    const next: BotInstance = {
      ...current,
      metadata: {
        ...current.metadata,
        expires: new Date(Math.max(previousExpiry, expires.getTime())).toISOString(),
      },
      status: {
        ...current.status,
        latest_authentications: [...current.status.latest_authentications, auth].slice(-HISTORY_LIMIT),
      },
    }
    try {
      return await deps.resources.update(next, { revision: current.metadata.revision ?? '' })
    } catch (err) {
      if (!(err instanceof RevisionMismatchError) || attempt >= 3) throw err
      current = await deps.resources.get(
        'bot_instance',
        `${current.spec.bot_name}/${current.spec.instance_id}`,
      )
    }
  }
}
