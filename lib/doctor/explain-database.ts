/**
 * Why a set of roles cannot see a database, role by role, for `credbroker doctor` when it has the
 * state at hand (the embedded mode): the troubleshooting guide's `database "example" not found`
 * turned into the missing labels and rules.
 */
import { loadRoles } from '../auth/roles.ts'
import { isBrokerError, NotFoundError } from '../errors.ts'
import { matchLabels, resourceVisible, ruleAllows } from '../rbac/index.ts'
import type { Role } from '../resources/types.ts'
import type { ResourceService } from '../services/resource-service.ts'

export interface DatabaseExplanation {
  readonly reasons: readonly string[]
  readonly fix: readonly string[]
}

export async function explainDatabase(
  resources: ResourceService,
  service: string,
  roleNames: readonly string[],
): Promise<DatabaseExplanation> {
  const db = await resources.get('db', service).catch((err: unknown) => {
    if (err instanceof NotFoundError) return undefined
    throw err
  })
  if (!db) {
    return {
      reasons: [`no database named "${service}" is registered`],
      fix: [`Register it (credbroker create -f db.yaml), or fix service: in the output.`],
    }
  }
  let roles: Role[]
  try {
    roles = await loadRoles(resources, roleNames)
  } catch (err) {
    if (!isBrokerError(err)) throw err
    return { reasons: [err.message], fix: ['Create the role, or fix roles: in the output.'] }
  }
  const labels = Object.entries(db.metadata.labels)
    .map(([k, v]) => `${k}=${v}`)
    .join(', ')
  const reasons = [`database "${service}" has labels {${labels}}`, resourceVisible(roles, db).reason]
  for (const role of roles) {
    const matches = matchLabels(role.spec.allow.db_labels, db.metadata.labels)
    const listRule =
      ruleAllows([role], 'db_server', 'list').allowed || ruleAllows([role], 'db', 'list').allowed
    reasons.push(
      `role ${role.metadata.name}: db_labels ${matches ? 'match' : 'do not match'}; ` +
        `${listRule ? 'has' : 'no'} read/list rule on db_server or db`,
    )
  }
  return {
    reasons,
    fix: [
      `Give one of ${roleNames.join(', ')} db_labels matching {${labels}} and the rule`,
      '  rules: [{ resources: [db_server, db], verbs: [read, list] }]',
      `(credbroker get role/${roleNames[0] ?? '<role>'}, edit, credbroker apply -f), then restart or reload the bot.`,
    ],
  }
}
