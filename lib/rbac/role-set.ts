/**
 * RBAC over a set of canonical roles: rules and the visibility of registered resources.
 *
 * Everything in `lib/rbac` is pure: no I/O, no clock. Every check is **deny before allow**: a
 * matching `deny` condition in any role refuses, whatever the other roles allow. Checks return a
 * {@link Decision} whose `reason` names the role that decided (or says nothing granted it), so
 * the caller can put it in the audit log; callers turn a refusal into their own error (for
 * example `database "<name>" not found` for an invisible database, as Teleport does).
 */
import type { RegisteredResource, Role, Rule } from '../resources/types.ts'
import { type Decision, granted, refused, roleName } from './decision.ts'
import { matchLabels } from './labels.ts'

/** The role-condition fields that select registered resources by label. */
export type LabelField = 'db_labels' | 'kubernetes_labels' | 'app_labels' | 'node_labels'

/** How a registered kind is selected (labels) and listed (rules). */
export interface KindPolicy {
  /** The role condition that selects resources of this kind. */
  readonly labels: LabelField
  /** Rule resource names that stand for this kind (Teleport lists resources via `*_server`). */
  readonly ruleKinds: readonly string[]
}

/** For each registered kind: its label field and the rule resources that let a role list it. */
export const KIND_POLICY: Readonly<Record<RegisteredResource['kind'], KindPolicy>> = {
  db: { labels: 'db_labels', ruleKinds: ['db', 'db_server'] },
  kube_cluster: { labels: 'kubernetes_labels', ruleKinds: ['kube_cluster', 'kube_server'] },
  app: { labels: 'app_labels', ruleKinds: ['app', 'app_server'] },
  node: { labels: 'node_labels', ruleKinds: ['node'] },
}

/** The verbs that make a registered resource visible: either one is enough. */
export const VISIBILITY_VERBS: readonly string[] = ['read', 'list']

function ruleMatches(rule: Rule, kinds: readonly string[], verbs: readonly string[]): boolean {
  const kindOk = rule.resources.includes('*') || kinds.some((kind) => rule.resources.includes(kind))
  const verbOk = rule.verbs.includes('*') || verbs.some((verb) => rule.verbs.includes(verb))
  return kindOk && verbOk
}

function findRule(
  roles: readonly Role[],
  side: 'allow' | 'deny',
  kinds: readonly string[],
  verbs: readonly string[],
): Role | undefined {
  return roles.find((role) => role.spec[side].rules.some((rule) => ruleMatches(rule, kinds, verbs)))
}

/**
 * Whether the roles let their holder perform `verb` on resources of `resourceKind`.
 *
 * A rule matches when its `resources` contain the kind or `*` and its `verbs` contain the verb or
 * `*`. Verbs are compared literally: `read` does not imply `read_no_secrets` nor the reverse.
 * Any role with a matching `deny.rules` entry refuses; otherwise the first role with a matching
 * `allow.rules` entry grants; otherwise the answer is no.
 *
 * @example
 * ruleAllows([dbReader], 'db', 'list') // { allowed: true, reason: 'role "db-reader" allows list on db' }
 */
export function ruleAllows(roles: readonly Role[], resourceKind: string, verb: string): Decision {
  const denying = findRule(roles, 'deny', [resourceKind], [verb])
  if (denying) return refused(`${roleName(denying)} denies ${verb} on ${resourceKind}`)
  const granting = findRule(roles, 'allow', [resourceKind], [verb])
  if (granting) return granted(`${roleName(granting)} allows ${verb} on ${resourceKind}`)
  return refused(`no role allows ${verb} on ${resourceKind}`)
}

/**
 * Whether the roles can see a registered resource, i.e. find it by name. Both must hold:
 *
 * 1. **Labels**: some role's allow selector for the kind (`db_labels`, `kubernetes_labels`,
 *    `app_labels`, `node_labels`) matches the resource's labels (see `matchLabels`), and no
 *    role's deny selector for the kind does.
 * 2. **Rules**: some role allows `read` or `list` on one of the kind's rule names (`db` or
 *    `db_server`; `kube_cluster` or `kube_server`; `app` or `app_server`; `node`), and no role
 *    denies `read` or `list` on any of them. Deny is deliberately broader than allow here: the
 *    aliases name one thing to an operator, and a deny is written to take that thing away.
 *
 * The label match and the rule may come from different roles, as in Teleport. A role with
 * `db_labels` but no rules, or rules but no matching labels, leaves the database invisible: that
 * is how the troubleshooting guide's `database "example" not found` arises.
 */
export function resourceVisible(roles: readonly Role[], resource: RegisteredResource): Decision {
  const { labels: field, ruleKinds } = KIND_POLICY[resource.kind]
  const what = `${resource.kind} "${resource.metadata.name}"`
  const labels = resource.metadata.labels
  const labelDeny = roles.find((role) => matchLabels(role.spec.deny[field], labels))
  if (labelDeny) return refused(`${roleName(labelDeny)} denies ${what} by deny.${field}`)
  const ruleDeny = findRule(roles, 'deny', ruleKinds, VISIBILITY_VERBS)
  if (ruleDeny) return refused(`${roleName(ruleDeny)} denies read/list on ${ruleKinds.join('/')}`)
  const labelAllow = roles.find((role) => matchLabels(role.spec.allow[field], labels))
  if (!labelAllow) return refused(`no role's allow.${field} matches ${what}`)
  const ruleAllow = findRule(roles, 'allow', ruleKinds, VISIBILITY_VERBS)
  if (!ruleAllow) return refused(`no role allows read or list on ${ruleKinds.join(' or ')}`)
  return granted(
    `${roleName(labelAllow)} matches ${what} by allow.${field}; ${roleName(ruleAllow)} allows read/list`,
  )
}

/**
 * The roles whose allow selector for the resource's kind matches it, or `[]` when any role's
 * deny selector matches it; without a resource, all of `roles`. Grants scoped by labels
 * (database users and names, Kubernetes users and groups, AWS role ARNs) come only from these.
 */
export function rolesMatching(roles: readonly Role[], resource?: RegisteredResource): readonly Role[] {
  if (resource === undefined) return roles
  const field = KIND_POLICY[resource.kind].labels
  const labels = resource.metadata.labels
  if (roles.some((role) => matchLabels(role.spec.deny[field], labels))) return []
  return roles.filter((role) => matchLabels(role.spec.allow[field], labels))
}
