/**
 * The allow rules of an `iam` token: OR across rules, AND within a rule. `aws_account` matches
 * exactly; `aws_arn` is an anchored glob where `*` matches any run and `?` one character. A rule
 * with neither field matches nothing (the token validator refuses such rules anyway).
 */
import { matchArnGlob } from '../../rbac/glob.ts'
import type { IamAllowRule } from '../../resources/types.ts'

/** What STS said about the caller. */
export interface CallerIdentity {
  readonly account: string
  readonly arn: string
}

export function ruleMatches(rule: IamAllowRule, who: CallerIdentity): boolean {
  if (rule.aws_account === undefined && rule.aws_arn === undefined) return false
  if (rule.aws_account !== undefined && rule.aws_account !== who.account) return false
  if (rule.aws_arn !== undefined && !matchArnGlob(rule.aws_arn, who.arn)) return false
  return true
}

/** `true` when any rule matches the caller. An empty list matches nothing. */
export function anyRuleMatches(rules: readonly IamAllowRule[], who: CallerIdentity): boolean {
  return rules.some((rule) => ruleMatches(rule, who))
}
