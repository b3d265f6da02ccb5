/**
 * The deployment's settings: names derived from the app and stage, plus knobs read from the
 * deploying shell's environment, validated before any resource is declared. Pure (no SST
 * globals), so unit tests import it directly.
 *
 * The variables, with their meaning and defaults, are {@link DEPLOY_ENV} (rendered into
 * docs/CONFIGURATION.md by `npm run docs:config`).
 *
 * The `DEPLOY_` prefix keeps them apart from the variables the CLI reads at run time
 * (`CREDBROKER_CLUSTER_NAME`, …), so a developer's local settings never leak into a deployment.
 * Paths are relative to the directory of `sst.config.ts`.
 */
import { type Env, type EnvVariable, matching, oneOf, optionalString } from '../lib/config/env.ts'
import { InvalidConfigError } from '../lib/errors.ts'
import { deepFreeze } from '../lib/freeze.ts'
import { adminIamRulesFromEnv } from '../lib/join/iam/admin-allow-list.ts'
import type { LogLevel } from '../lib/log.ts'
import { isResourceName } from '../lib/resources/fields.ts'
import type { CaKeyGeneration } from './contracts.ts'
import { DEFAULT_SCHEDULE, parseSchedule, type Schedule } from './schedule.ts'

/** Every variable {@link loadInfraConfig} reads from the shell that runs `sst deploy`. */
export const DEPLOY_ENV: readonly EnvVariable[] = [
  {
    name: 'CREDBROKER_DEPLOY_CLUSTER_NAME',
    meaning: "the cluster's name (a DNS name), written into every certificate",
    default: '`<app>-<stage>`',
  },
  {
    name: 'CREDBROKER_DEPLOY_BOT_NAME',
    meaning: 'the deployed bot; its secrets live under `credbroker/<stage>/<bot>/`',
    default: '`example`',
  },
  {
    name: 'CREDBROKER_DEPLOY_SCHEDULE',
    meaning: 'how often the rotate function runs: `rate(<n> minutes|hours|days)` or `cron(<6 fields>)`',
    default: '`rate(20 minutes)`',
  },
  {
    name: 'CREDBROKER_DEPLOY_BOT_CONFIG',
    meaning: "the bot's YAML, copied into the rotate function",
    default: '`examples/deploy/bot.yaml`',
  },
  {
    name: 'CREDBROKER_DEPLOY_BOOTSTRAP',
    meaning: 'resources YAML the auth function creates on its first start',
    default: 'none',
  },
  {
    name: 'CREDBROKER_DEPLOY_LOG_LEVEL',
    meaning: "both functions' `CREDBROKER_LOG_LEVEL`: `debug`, `info`, `warn` or `error`",
    default: '`info`',
  },
  {
    name: 'CREDBROKER_DEPLOY_CA_KEY_GENERATIONS',
    meaning:
      'extra CA key generations to provision for CA rotation, as `<ca>:<generation>` pairs (`user:1,host:1`); generation 0 is always provisioned (docs/ROTATION.md)',
    default: 'none',
  },
  {
    name: 'CREDBROKER_DEPLOY_ADMIN_IAM',
    meaning:
      "the IAM principals that may log in as administrators: the auth function's `CREDBROKER_ADMIN_IAM` (JSON list of `{arn, roles?, user?}`, docs/ADMIN-AUTH.md)",
    default: 'nobody',
  },
  {
    name: 'CREDBROKER_DEPLOY_REISSUE_PRINCIPALS',
    meaning:
      'comma-separated IAM role or user ARNs allowed to call the reissue function (its Function URL resource policy and `CREDBROKER_REISSUE_ALLOWED_ARNS`); set, it deploys the reissue function, the auth events bus and the rule that triggers reissues',
    default: 'none: no reissue function',
  },
]

export interface InfraConfig {
  readonly app: string
  readonly stage: string
  /** Production keeps its data: deletion protection, retained resources, a 30-day key deletion window. */
  readonly production: boolean
  readonly clusterName: string
  readonly botName: string
  /** `credbroker/<stage>/<bot>/`: the only secrets the rotate function may touch. */
  readonly secretPrefix: string
  readonly schedule: Schedule
  readonly logLevel: LogLevel
  readonly botConfigFile: string
  readonly bootstrapFile: string | undefined
  /** CA key generations provisioned besides generation 0, for CA rotation (`user:1`). */
  readonly caKeyGenerations: readonly CaKeyGeneration[]
  /** The administrators' IAM login allow-list, validated, as the auth function reads it (JSON). */
  readonly adminIam: string | undefined
  /**
   * The reissue function's callers (IAM role or user ARNs), when it is deployed: the Function
   * URL's resource policy grants exactly these `lambda:InvokeFunctionUrl`.
   */
  readonly reissue: { readonly principals: readonly string[] } | undefined
  /** Fixed names, so join-token allow rules and runbooks can name them. */
  readonly names: {
    readonly authFunction: string
    readonly rotateFunction: string
    readonly reissueFunction: string
    /** The EventBridge bus the auth function publishes its reissue-triggering events on. */
    readonly eventBus: string
  }
}

/** An IAM role (any path) or user ARN: what a Function URL resource policy can name. */
const PRINCIPAL_ARN = /^arn:aws(?:-[a-z]+)*:iam::\d{12}:(?:role|user)\/(?:[\w+=,.@-]+\/)*[\w+=,.@-]{1,128}$/

/** The stage that keeps its data and is protected from `sst remove`. */
export const PRODUCTION_STAGE = 'production'

/**
 * 1–24 of lowercase letters, digits and `-`: the stage ends up in function and role names (64
 * characters at most, the region included) and in the DNS-like cluster name.
 */
const STAGE = /^[a-z0-9](?:[a-z0-9-]{0,22}[a-z0-9])?$/
const CLUSTER_NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/
/** A relative path inside the project: no leading `/`, no `..` segment. */
const PROJECT_PATH = /^(?!\/)(?!.*(?:^|\/)\.\.(?:\/|$))[\w./-]{1,255}$/
const LOG_LEVELS = ['debug', 'info', 'warn', 'error'] as const

/**
 * @throws InvalidConfigError naming the stage or the first bad variable.
 * @example
 * const config = loadInfraConfig({ app: $app.name, stage: $app.stage, env: process.env })
 */
export function loadInfraConfig(input: { app: string; stage: string; env: Env }): InfraConfig {
  const { app, stage, env } = input
  if (!STAGE.test(stage)) {
    throw new InvalidConfigError(
      'stage',
      `"${stage}" must be 1 to 24 of lowercase letters, digits and "-" (it becomes part of AWS resource names)`,
    )
  }
  const botName = optionalString(env, 'CREDBROKER_DEPLOY_BOT_NAME') ?? 'example'
  if (!isResourceName(botName)) {
    throw new InvalidConfigError('CREDBROKER_DEPLOY_BOT_NAME', `"${botName}" is not a valid bot name`)
  }
  const schedule = parseSchedule(
    optionalString(env, 'CREDBROKER_DEPLOY_SCHEDULE') ?? DEFAULT_SCHEDULE,
    'CREDBROKER_DEPLOY_SCHEDULE',
  )
  const bootstrapFile = optionalString(env, 'CREDBROKER_DEPLOY_BOOTSTRAP')
  return deepFreeze({
    app,
    stage,
    production: stage === PRODUCTION_STAGE,
    clusterName: matching(
      env,
      'CREDBROKER_DEPLOY_CLUSTER_NAME',
      CLUSTER_NAME,
      'a DNS name',
      `${app}-${stage}`,
    ),
    botName,
    secretPrefix: `${app}/${stage}/${botName}/`,
    schedule,
    logLevel: oneOf(env, 'CREDBROKER_DEPLOY_LOG_LEVEL', LOG_LEVELS, 'info'),
    botConfigFile: projectPath(env, 'CREDBROKER_DEPLOY_BOT_CONFIG', 'examples/deploy/bot.yaml'),
    bootstrapFile:
      bootstrapFile === undefined
        ? undefined
        : projectPath(env, 'CREDBROKER_DEPLOY_BOOTSTRAP', bootstrapFile),
    adminIam: adminIamSetting(env),
    caKeyGenerations: caKeyGenerationsSetting(env),
    reissue: reissueSetting(env),
    names: {
      authFunction: `${app}-${stage}-auth`,
      rotateFunction: `${app}-${stage}-rotate`,
      reissueFunction: `${app}-${stage}-reissue`,
      eventBus: `${app}-${stage}-auth-events`,
    },
  })
}

/** `CREDBROKER_DEPLOY_REISSUE_PRINCIPALS`: distinct role or user ARNs; unset, no reissue function. */
function reissueSetting(env: Env): InfraConfig['reissue'] {
  const name = 'CREDBROKER_DEPLOY_REISSUE_PRINCIPALS'
  const text = optionalString(env, name)
  if (text === undefined) return undefined
  const principals = [...new Set(text.split(',').map((p) => p.trim()))].filter((p) => p !== '')
  if (principals.length === 0)
    throw new InvalidConfigError(name, 'must list at least one IAM role or user ARN')
  const bad = principals.find((p) => !PRINCIPAL_ARN.test(p))
  if (bad !== undefined) {
    throw new InvalidConfigError(
      name,
      `"${bad}" is not an IAM role or user ARN such as arn:aws:iam::123456789012:role/ops (no wildcards)`,
    )
  }
  return { principals }
}

/** `CREDBROKER_DEPLOY_CA_KEY_GENERATIONS`: `<ca>:<generation>` pairs, generation 1–999, distinct. */
function caKeyGenerationsSetting(env: Env): CaKeyGeneration[] {
  const name = 'CREDBROKER_DEPLOY_CA_KEY_GENERATIONS'
  const text = optionalString(env, name)
  if (text === undefined) return []
  const seen = new Set<string>()
  const generations: CaKeyGeneration[] = []
  for (const item of text.split(',').map((p) => p.trim())) {
    const match = /^(user|host|db|jwt):([1-9][0-9]{0,2})$/.exec(item)
    if (!match) {
      throw new InvalidConfigError(
        name,
        `"${item}" is not <ca>:<generation> with a CA of user, host, db or jwt and a generation from 1 to 999`,
      )
    }
    if (seen.has(item)) continue
    seen.add(item)
    generations.push({ ca: match[1] as CaKeyGeneration['ca'], generation: Number(match[2]) })
  }
  return generations
}

/**
 * A function's IAM role name. Roles are global to the account while functions are regional, so
 * the region is part of the name: the same stage can live in two regions of one account.
 */
export function roleName(functionName: string, region: string): string {
  const name = `${functionName}-${region}`
  if (name.length > 64) throw new TypeError(`IAM role name ${name} is longer than 64 characters`)
  return name
}

/** Checked here with the auth function's own parser, so a bad list stops the deploy, not the function. */
function adminIamSetting(env: Env): string | undefined {
  const rules = adminIamRulesFromEnv(env, 'CREDBROKER_DEPLOY_ADMIN_IAM')
  return rules.length === 0 ? undefined : JSON.stringify(rules)
}

function projectPath(env: Env, name: string, fallback: string): string {
  return matching(env, name, PROJECT_PATH, 'a path relative to the project root, without ".."', fallback)
}
