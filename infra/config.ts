/**
 * The deployment's settings: names derived from the app and stage, plus knobs read from the
 * deploying shell's environment, validated before any resource is declared. Pure (no SST
 * globals), so unit tests import it directly.
 *
 * | variable                         | meaning                                               | default                   |
 * |----------------------------------|-------------------------------------------------------|---------------------------|
 * | `CREDBROKER_DEPLOY_CLUSTER_NAME` | the cluster's name, written into every certificate    | `<app>-<stage>`           |
 * | `CREDBROKER_DEPLOY_BOT_NAME`     | the deployed bot; its secrets live under `credbroker/<stage>/<bot>/` | `example`  |
 * | `CREDBROKER_DEPLOY_SCHEDULE`     | how often the rotate function runs                    | `rate(20 minutes)`        |
 * | `CREDBROKER_DEPLOY_BOT_CONFIG`   | the bot's YAML, copied into the rotate function       | `examples/deploy/bot.yaml`|
 * | `CREDBROKER_DEPLOY_BOOTSTRAP`    | resources YAML the auth function creates on first start | none                    |
 * | `CREDBROKER_DEPLOY_LOG_LEVEL`    | both functions' `CREDBROKER_LOG_LEVEL`                | `info`                    |
 *
 * The `DEPLOY_` prefix keeps them apart from the variables the CLI reads at run time
 * (`CREDBROKER_CLUSTER_NAME`, …), so a developer's local settings never leak into a deployment.
 * Paths are relative to the directory of `sst.config.ts`.
 */
import { type Env, matching, oneOf, optionalString } from '../lib/config/env.ts'
import { InvalidConfigError } from '../lib/errors.ts'
import { deepFreeze } from '../lib/freeze.ts'
import type { LogLevel } from '../lib/log.ts'
import { isResourceName } from '../lib/resources/fields.ts'
import { DEFAULT_SCHEDULE, parseSchedule, type Schedule } from './schedule.ts'

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
  /** Fixed names, so join-token allow rules and runbooks can name them. */
  readonly names: {
    readonly authFunction: string
    readonly rotateFunction: string
  }
}

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
    names: {
      authFunction: `${app}-${stage}-auth`,
      rotateFunction: `${app}-${stage}-rotate`,
    },
  })
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

function projectPath(env: Env, name: string, fallback: string): string {
  return matching(env, name, PROJECT_PATH, 'a path relative to the project root, without ".."', fallback)
}
