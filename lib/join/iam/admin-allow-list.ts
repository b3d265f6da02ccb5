/**
 * Who may log in as an administrator with a signed `sts:GetCallerIdentity` (`lib/auth/admin-login.ts`),
 * and as whom: the auth configuration's list of rules, each an ARN pattern and the roles it grants.
 *
 * ```json
 * [{ "arn": "arn:aws:iam::123456789012:role/platform-admin", "roles": ["admin"] },
 *  { "arn": "arn:aws:iam::123456789012:user/alice", "roles": ["admin"], "user": "alice" }]
 * ```
 *
 * Matching. `arn` is matched against the ARN STS returns, as the `iam` join's `aws_arn` rules are
 * (`lib/rbac/glob.ts`: anchored, `*` any run, `?` one character). STS names a role's session
 * `arn:<partition>:sts::<account>:assumed-role/<role name>/<session>`, never the role ARN, so an
 * IAM role ARN `arn:<partition>:iam::<account>:role/<path/><name>` also matches every session of
 * that role: it stands for `arn:<partition>:sts::<account>:assumed-role/<name>/*` too. A role's
 * path is not in its session ARN; role names are unique in an account whatever their path, so a
 * literal path loses nothing, but a wildcard in the path would widen the rule to every role of the
 * same name pattern: such rules are refused.
 *
 * Scope. A rule names one account of one partition, written out:
 * `arn:<aws|aws-cn|aws-us-gov>:<iam|sts>::<12 digits>:<resource>`. Globs are for the resource part
 * only (`role/ops-*`, `assumed-role/admin/*`): a wildcard account or partition would make a
 * principal of that name in any AWS account an administrator, an attacker's included, so such
 * rules are refused ({@link adminArnProblem} names the field).
 *
 * Grants. The roles of every matching rule, in rule order, without repeats (default `["admin"]`).
 * The user is the first matching rule's `user`, else derived from the ARN by {@link adminUserOf}.
 */
import * as z from 'zod'
import { type Env, optionalString } from '../../config/env.ts'
import { InvalidConfigError } from '../../errors.ts'
import { matchArnGlob } from '../../rbac/glob.ts'
import { arnGlob } from '../../resources/aws-fields.ts'
import { resourceName } from '../../resources/fields.ts'
import type { CallerIdentity } from './allow-rules.ts'

export interface AdminIamRule {
  /** ARN glob of the principal (see the module comment for IAM role ARNs). */
  readonly arn: string
  /** Roles the administrator acts with. */
  readonly roles: readonly string[]
  /** The identity's user (a resource name, so locks can target it); absent: derived from the ARN. */
  readonly user?: string
}

/** What a matching principal gets. */
export interface AdminGrant {
  readonly user: string
  readonly roles: readonly string[]
}

export const DEFAULT_ADMIN_ROLES: readonly string[] = ['admin']

const ROLE_ARN = /^arn:([^:]+):iam::([^:]+):role\/(.+)$/

/** Partitions whose STS endpoints the `iam` join knows (lib/join/iam/sts-hosts.ts). */
export const ADMIN_ARN_PARTITIONS: readonly string[] = ['aws', 'aws-cn', 'aws-us-gov']

const adminArn = arnGlob.superRefine((arn, ctx) => {
  const problem = adminArnProblem(arn)
  if (problem !== undefined) ctx.addIssue({ code: 'custom', message: problem })
})

const ruleSchema = z
  .strictObject({
    arn: adminArn,
    roles: z
      .array(resourceName)
      .min(1)
      .max(64)
      .default([...DEFAULT_ADMIN_ROLES]),
    user: resourceName.optional(),
  })
  .refine((rule) => !wildcardInRolePath(rule.arn), {
    message: 'a wildcard may name the role, not its path: role/<path/>NAME* is fine, role/*/NAME is not',
    path: ['arn'],
  })

export const adminIamRulesSchema = z.array(ruleSchema).max(256)

/**
 * Parses the rules from JSON text.
 * @returns the rules, or the first problem as `<index>.<field>: <problem>`
 */
export function parseAdminIamRules(
  text: string,
): { ok: true; rules: AdminIamRule[] } | { ok: false; problem: string } {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    return { ok: false, problem: 'must be JSON such as [{"arn":"arn:aws:iam::123456789012:role/admin"}]' }
  }
  const parsed = adminIamRulesSchema.safeParse(value)
  if (!parsed.success) {
    const issue = parsed.error.issues[0]
    const path = issue?.path.map(String).join('.') ?? ''
    const what =
      issue?.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.join(', ')}`
        : (issue?.message ?? 'invalid')
    return { ok: false, problem: path === '' ? what : `${path}: ${what}` }
  }
  return {
    ok: true,
    rules: parsed.data.map((r) => ({
      arn: r.arn,
      roles: r.roles,
      ...(r.user !== undefined && { user: r.user }),
    })),
  }
}

/**
 * The rules in variable `name` (JSON, see the module comment); unset or blank: none.
 * @throws InvalidConfigError naming the variable and the first bad rule field
 */
export function adminIamRulesFromEnv(env: Env, name: string): AdminIamRule[] {
  const text = optionalString(env, name)
  if (text === undefined) return []
  const parsed = parseAdminIamRules(text)
  if (!parsed.ok) throw new InvalidConfigError(name, parsed.problem)
  return parsed.rules
}

const ACCOUNT_ID = /^\d{12}$/
const shown = (value: string) => JSON.stringify(value.slice(0, 64))

/**
 * What is wrong with the fixed fields of an admin rule's ARN (see "Scope" in the module comment),
 * naming the field; undefined when the partition, service, region and account are literal and
 * a resource follows.
 */
export function adminArnProblem(arn: string): string | undefined {
  const fields = arn.split(':')
  const [, partition = '', service = '', region = '', account = ''] = fields
  if (!ADMIN_ARN_PARTITIONS.includes(partition))
    return `the partition must be ${ADMIN_ARN_PARTITIONS.join(', ')} written out, not a pattern (got ${shown(partition)})`
  if (service !== 'iam' && service !== 'sts')
    return `the service must be iam or sts written out, not a pattern (got ${shown(service)})`
  if (region !== '') return `the region must be empty, as in every IAM and STS ARN (got ${shown(region)})`
  if (!ACCOUNT_ID.test(account))
    return `the account must be a 12-digit AWS account id written out, not a pattern (got ${shown(account)})`
  if (fields.length < 6 || fields.slice(5).join(':') === '')
    return 'the resource is missing: arn:<partition>:<iam|sts>::<account>:<role/NAME, user/NAME, assumed-role/NAME/SESSION>'
  return undefined
}

function wildcardInRolePath(arn: string): boolean {
  const match = ROLE_ARN.exec(arn)
  if (!match) return false
  const path = (match[3] ?? '').split('/').slice(0, -1).join('/')
  return /[*?]/.test(path)
}

/** The patterns a rule's ARN stands for: itself, plus its sessions' pattern for an IAM role ARN. */
export function rulePatterns(arn: string): string[] {
  const match = ROLE_ARN.exec(arn)
  if (!match) return [arn]
  const name = (match[3] ?? '').split('/').at(-1) ?? ''
  return [arn, `arn:${match[1]}:sts::${match[2]}:assumed-role/${name}/*`]
}

export function adminRuleMatches(rule: AdminIamRule, who: CallerIdentity): boolean {
  return rulePatterns(rule.arn).some((pattern) => matchArnGlob(pattern, who.arn))
}

/** @returns the grant of the matching rules, or undefined when none matches (or there are none) */
export function matchAdminRules(rules: readonly AdminIamRule[], who: CallerIdentity): AdminGrant | undefined {
  const matching = rules.filter((rule) => adminRuleMatches(rule, who))
  if (matching.length === 0) return undefined
  const roles = [...new Set(matching.flatMap((rule) => rule.roles))]
  const user = matching.find((rule) => rule.user !== undefined)?.user ?? adminUserOf(who)
  return { user, roles }
}

const NOT_NAME_CHAR = /[^A-Za-z0-9._@-]/g

/**
 * The user of an administrator whose rule names none: `<principal name>@<account>`, where the
 * principal name is the IAM user's name, the role's name (for any of its sessions: session names
 * are chosen by whoever assumes the role, so they cannot name a user), the federated user's name,
 * or `root`. Characters a resource name cannot hold (`+`, `=`, `,`) become `_`.
 *
 * @example
 * adminUserOf({ account: '123456789012', arn: 'arn:aws:sts::123456789012:assumed-role/ops/jane' })
 * // 'ops@123456789012'
 */
export function adminUserOf(who: CallerIdentity): string {
  const resource = who.arn.split(':').slice(5).join(':')
  const parts = resource.split('/')
  const name = parts[0] === 'assumed-role' ? (parts[1] ?? '') : (parts.at(-1) ?? '')
  const safe = name.replace(NOT_NAME_CHAR, '_').replace(/^[^A-Za-z0-9]+/, '')
  return `${safe === '' ? 'aws' : safe.slice(0, 200)}@${who.account}`
}
