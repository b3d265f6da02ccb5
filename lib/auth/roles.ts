/** Loading role documents by name, for policy checks; bot roles are derived from bot resources. */
import { AccessDeniedError, NotFoundError } from '../errors.ts'
import { botRole, type Identity } from '../identity/identity.ts'
import { emptyConditions } from '../resources/role.ts'
import type { Bot, Role } from '../resources/types.ts'
import type { ResourceService } from '../services/resource-service.ts'

/** Label that marks resources belonging to a bot. */
export const BOT_LABEL = 'credbroker/bot'

/**
 * The bot role `bot-<name>` of a bot: may impersonate exactly the bot's roles, and may read
 * certificate authorities (without secrets); sessions at most the bot's max_session_ttl or 12h.
 */
export function botRoleOf(bot: Bot): Role {
  return {
    kind: 'role',
    version: 'v1',
    metadata: { name: botRole(bot.metadata.name), labels: { [BOT_LABEL]: bot.metadata.name } },
    spec: {
      allow: {
        ...emptyConditions(),
        impersonate: { roles: [...bot.spec.roles] },
        rules: [{ resources: ['cert_authority'], verbs: ['read_no_secrets'] }],
      },
      deny: emptyConditions(),
      options: { max_session_ttl: bot.spec.max_session_ttl ?? '12h' },
    },
  }
}

/**
 * The roles an authenticated identity acts with: its bot role derived from the bot resource (a
 * deleted bot has no roles: access denied), and any other role from the store.
 */
export async function loadCallerRoles(resources: ResourceService, identity: Identity): Promise<Role[]> {
  const { botName } = identity
  const derived = botName === undefined ? undefined : botRole(botName)
  const stored = await loadRoles(
    resources,
    identity.roles.filter((r) => r !== derived),
  )
  if (botName === undefined || !identity.roles.includes(derived as string)) return stored
  const bot = await resources.get('bot', botName).catch((err: unknown) => {
    throw err instanceof NotFoundError ? new AccessDeniedError(`bot "${botName}" no longer exists`) : err
  })
  return [botRoleOf(bot), ...stored]
}

/**
 * The named roles. A missing role is an access error (a certificate cannot be issued for a role
 * that does not exist), not a 404 that would reveal which role names exist.
 */
export async function loadRoles(resources: ResourceService, names: readonly string[]): Promise<Role[]> {
  return Promise.all(
    names.map((name) =>
      resources.get('role', name).catch((err: unknown) => {
        throw err instanceof NotFoundError ? new AccessDeniedError(`role "${name}" is not available`) : err
      }),
    ),
  )
}

/** Every role name in the cluster. */
export async function allRoleNames(resources: ResourceService): Promise<string[]> {
  const names: string[] = []
  let cursor: string | undefined
  do {
    const page = await resources.list('role', cursor === undefined ? {} : { cursor })
    names.push(...page.items.map((r) => r.metadata.name))
    cursor = page.nextCursor
  } while (cursor !== undefined)
  return names
}
