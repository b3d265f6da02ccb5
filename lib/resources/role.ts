/**
 * `kind: role`: what a role allows and denies. Every condition field is optional on input and
 * present (empty) in the canonical form, so RBAC code never checks for `undefined`.
 *
 * @example
 * kind: role
 * version: v1
 * metadata: { name: machine-id-db }
 * spec:
 *   allow:
 *     db_labels: { '*': '*' }
 *     db_names: [example]
 *     db_users: [alice]
 *     rules: [{ resources: [db_server, db], verbs: [read, list] }]
 */
import * as z from 'zod'
import { iamRoleArn } from './aws-fields.ts'
import { duration, list, login, nameList, requiredList, text } from './fields.ts'
import { labelSelector } from './labels.ts'
import { type Conforms, documentSchema } from './metadata.ts'
import type { Role, RoleConditions } from './types.ts'

/**
 * Resource kinds a rule may name: every stored kind, the `*_server` views of registered
 * resources (Teleport's `db_server` is what a database lookup lists), `cert_authority` (bots
 * watch CA rotation through it), `host_cert` (`create` lets a bot's `ssh_host` output obtain
 * OpenSSH host certificates) and `*`. Anything else is a typo that would grant nothing.
 */
export const RULE_RESOURCES: readonly string[] = [
  '*',
  'role',
  'bot',
  'token',
  'bot_instance',
  'lock',
  'db',
  'db_server',
  'kube_cluster',
  'kube_server',
  'app',
  'app_server',
  'node',
  'cert_authority',
  'host_cert',
]

/** Verbs a rule may grant. */
export const RULE_VERBS: readonly string[] = [
  '*',
  'read',
  'list',
  'create',
  'update',
  'delete',
  'read_no_secrets',
]

function oneOf(allowed: readonly string[], what: string) {
  return z.string().refine((value) => allowed.includes(value), {
    message: `unknown ${what}; expected one of: ${allowed.join(', ')}`,
  })
}

const rule = z.strictObject({
  resources: requiredList(oneOf(RULE_RESOURCES, 'resource kind'), 32),
  verbs: requiredList(oneOf(RULE_VERBS, 'verb'), 16),
})

/** Database, Kubernetes and similar principal names: `*` is meaningful there, spaces are not. */
const principal = text(256).regex(/^[^\s]+$/, 'must not contain spaces')

/**
 * A SPIFFE ID path a role grants (`/svc/web`), or a `*` glob of them (`/ns/prod/*`): the path
 * segment characters SPIFFE allows, starting with `/`, no empty or dot segments.
 */
const spiffePath = text(2048).regex(
  /^(\/(?!\.{1,2}(\/|$))[A-Za-z0-9._*-]+)+$/,
  'must be a SPIFFE ID path such as /svc/web (segments of letters, digits, . _ - and * globs)',
)

const conditions = z
  .strictObject({
    logins: list(login, 64, 'login names'),
    node_labels: labelSelector,
    db_labels: labelSelector,
    db_names: list(principal, 64),
    db_users: list(principal, 64),
    kubernetes_labels: labelSelector,
    kubernetes_groups: list(principal, 64),
    kubernetes_users: list(principal, 64),
    app_labels: labelSelector,
    aws_role_arns: list(iamRoleArn, 64, 'IAM role ARNs'),
    spiffe: list(spiffePath, 64, 'SPIFFE ID paths'),
    rules: list(rule, 64, 'rules'),
    impersonate: z.strictObject({ roles: nameList }).default(() => ({ roles: [] })),
  })
  .default(() => mutableEmptyConditions())

/** Conditions that grant and deny nothing: the canonical default of `allow` and `deny`. */
export const emptyConditions = (): RoleConditions => mutableEmptyConditions()

function mutableEmptyConditions() {
  return {
    logins: [],
    node_labels: {},
    db_labels: {},
    db_names: [],
    db_users: [],
    kubernetes_labels: {},
    kubernetes_groups: [],
    kubernetes_users: [],
    app_labels: {},
    aws_role_arns: [],
    spiffe: [],
    rules: [],
    impersonate: { roles: [] },
  }
}

const options = z.strictObject({ max_session_ttl: duration.optional() }).default({})

/** The `role` document schema. */
export const roleSchema = documentSchema(
  'role',
  z.strictObject({ allow: conditions, deny: conditions, options }),
)

true satisfies Conforms<typeof roleSchema, Role>
