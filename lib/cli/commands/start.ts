/**
 * `credbroker start`: bootstraps the example cluster into the configured state and shows what
 * each example bot's roles can reach. Re-running reuses the state: unchanged documents are left
 * alone, changed ones are updated.
 *
 * The auth service and the bot that writes credentials are not part of this release yet; this
 * command runs the parts that exist (state store, resource model, RBAC).
 */
import { resolve } from 'node:path'
import { NotFoundError } from '../../errors.ts'
import { canUseDatabase, logins, resourceVisible } from '../../rbac/index.ts'
import type { Bot, RegisteredResource, Role } from '../../resources/types.ts'
import { applyResources } from '../../services/apply.ts'
import type { ResourceService } from '../../services/resource-service.ts'
import type { CliContext } from '../context.ts'
import { loadDocuments } from '../load-documents.ts'
import { renderTable } from '../table.ts'

export const EXAMPLE_CLUSTER_DIR = 'examples/cluster'

export async function startCommand(ctx: CliContext, cwd: string): Promise<number> {
  const docs = loadDocuments(resolve(cwd, EXAMPLE_CLUSTER_DIR))
  const results = await applyResources(ctx.resources, docs)
  ctx.print(`State: ${describeStore(ctx)}\n`)
  ctx.print(
    renderTable(
      ['KIND', 'NAME', 'ACTION', 'REVISION'],
      results.map((r) => [r.kind, r.name, r.action, r.revision]),
    ),
  )
  const bots = docs.filter((d): d is Bot => d.kind === 'bot')
  const registered = docs.filter((d): d is RegisteredResource =>
    ['db', 'node', 'app', 'kube_cluster'].includes(d.kind),
  )
  for (const bot of bots) {
    const roles = await rolesOf(ctx.resources, bot.spec.roles)
    ctx.print(`\nBot "${bot.metadata.name}" (roles ${bot.spec.roles.join(', ')}) can reach:\n`)
    ctx.print(
      renderTable(
        ['RESOURCE', 'VISIBLE', 'GRANTS OR REASON'],
        registered.map((r) => reach(roles, r)),
      ),
    )
  }
  ctx.log.info('example cluster applied', {
    created: results.filter((r) => r.action === 'created').length,
    updated: results.filter((r) => r.action === 'updated').length,
    unchanged: results.filter((r) => r.action === 'unchanged').length,
  })
  return 0
}

function describeStore(ctx: CliContext): string {
  const store = ctx.config.store
  switch (store.kind) {
    case 'embedded':
      return `embedded SQLite in ${store.stateDir}`
    case 'memory':
      return 'memory (nothing is kept after exit)'
    case 'dynamodb':
      return `DynamoDB table ${store.tableName} (${store.region})`
  }
}

async function rolesOf(resources: ResourceService, names: readonly string[]): Promise<Role[]> {
  const roles: Role[] = []
  for (const name of names) {
    try {
      roles.push(await resources.get('role', name))
    } catch (err) {
      if (!(err instanceof NotFoundError)) throw err
    }
  }
  return roles
}

function reach(roles: readonly Role[], resource: RegisteredResource): string[] {
  const label = `${resource.kind}/${resource.metadata.name}`
  const visible = resourceVisible(roles, resource)
  if (!visible.allowed) return [label, 'no', visible.reason]
  switch (resource.kind) {
    case 'node':
      return [label, 'yes', `logins: ${logins(roles).join(', ') || 'none'}`]
    case 'db': {
      const granting = roles.flatMap((r) =>
        r.spec.allow.db_users.map((user) => ({ user, names: r.spec.allow.db_names })),
      )
      const usable = granting.filter(({ user, names }) =>
        names.some((name) => canUseDatabase(roles, resource, { user, name }).allowed),
      )
      const text = usable.map(({ user, names }) => `${user}@${names.join('|')}`).join(', ')
      return [label, 'yes', `db users@names: ${text || 'none'}`]
    }
    default:
      return [label, 'yes', visible.reason]
  }
}
