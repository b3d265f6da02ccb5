export type { Decision } from './decision.ts'
export {
  compileArnGlob,
  compileGlob,
  GLOB_CACHE_LIMIT,
  type GlobMatcher,
  matchAnyGlob,
  matchArnGlob,
  matchGlob,
} from './glob.ts'
export {
  awsRoleArns,
  canSeeApp,
  canUseDatabase,
  canUseSpiffePath,
  type DatabaseLogin,
  databaseNames,
  databaseUsers,
  kubernetesGroups,
  kubernetesUsers,
  logins,
} from './grants.ts'
export { checkImpersonation, impersonatableRoles } from './impersonation.ts'
export { ANY_LABEL, matchLabels } from './labels.ts'
export {
  KIND_POLICY,
  type KindPolicy,
  type LabelField,
  resourceVisible,
  rolesMatching,
  ruleAllows,
  VISIBILITY_VERBS,
} from './role-set.ts'
export { clampTtl, DEFAULT_MAX_SESSION_TTL_MS, type TtlInput, type TtlLimit, type TtlResult } from './ttl.ts'
