/**
 * The rotate Lambda's configuration: the bot's YAML config (a file copied next to the handler,
 * or inline) with the deployment's overrides. Parsed once per cold start; every error names the
 * variable or the config field.
 *
 * The variables it reads, with their meaning and defaults, are {@link ROTATE_LAMBDA_ENV}
 * (rendered into docs/CONFIGURATION.md by `npm run docs:config`).
 *
 * A Lambda has no durable disk (only a scratch `/tmp`), so directory storage and destinations are
 * refused, and a token-joined bot must keep its renewable identity in Secrets Manager: its
 * one-time token is spent on the first run.
 */
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { parse as parseYaml } from 'yaml'
import { type BotConfig, parseBotConfig, validateBotConfig } from '../bot/config.ts'
import {
  type Env,
  type EnvVariable,
  oneOf,
  optionalString,
  optionalUrl,
  requiredString,
} from '../config/env.ts'
import { InvalidConfigError } from '../errors.ts'
import { deepFreeze } from '../freeze.ts'
import type { LogLevel } from '../log.ts'

/** Every variable {@link loadRotateLambdaConfig} reads. */
export const ROTATE_LAMBDA_ENV: readonly EnvVariable[] = [
  { name: 'CREDBROKER_BOT_CONFIG', meaning: 'the bot config itself (YAML), instead of a file' },
  {
    name: 'CREDBROKER_BOT_CONFIG_FILE',
    meaning: "path of the bot config, relative to the function's root",
    default: '`bot.yaml`',
  },
  { name: 'CREDBROKER_AUTH_SERVER', meaning: "the auth service URL, replacing the config's `auth_server`" },
  {
    name: 'CREDBROKER_SECRETS_MANAGER_ENDPOINT',
    meaning: 'Secrets Manager endpoint override (moto in tests)',
    default: "AWS's",
  },
  {
    name: 'CREDBROKER_BOT_NAME',
    meaning: "the bot's name, for the `credbroker:bot` tag of the secrets it creates",
    default: '`unknown`',
  },
  {
    name: 'AWS_REGION',
    meaning: 'region of destinations that name none, and of STS',
    default: 'set by Lambda',
  },
  { name: 'CREDBROKER_LOG_LEVEL', meaning: '`debug`, `info`, `warn` or `error`', default: '`info`' },
]

export interface RotateLambdaConfig {
  readonly bot: BotConfig
  readonly warnings: readonly string[]
  readonly region: string
  readonly secretsManagerEndpoint?: string
  readonly botName?: string
  readonly logLevel: LogLevel
}

export function loadRotateLambdaConfig(env: Env, cwd: string): RotateLambdaConfig {
  const region = requiredString(env, 'AWS_REGION', 'for Secrets Manager and the IAM join')
  const endpoint = optionalUrl(env, 'CREDBROKER_SECRETS_MANAGER_ENDPOINT')
  const authServer = optionalUrl(env, 'CREDBROKER_AUTH_SERVER')
  const botName = optionalString(env, 'CREDBROKER_BOT_NAME')
  const { text, source } = configText(env, cwd)
  const options = { baseDir: cwd, source }
  const parsed =
    authServer === undefined ? parseBotConfig(text, options) : withAuthServer(text, authServer, options)
  const bot: BotConfig = { ...parsed.config, oneshot: true }
  checkLambdaFit(bot)
  return deepFreeze({
    bot,
    warnings: parsed.warnings,
    region,
    ...(endpoint && { secretsManagerEndpoint: endpoint.toString() }),
    ...(botName !== undefined && { botName }),
    logLevel: oneOf(env, 'CREDBROKER_LOG_LEVEL', ['debug', 'info', 'warn', 'error'] as const, 'info'),
  })
}

function configText(env: Env, cwd: string): { text: string; source: string } {
  const inline = optionalString(env, 'CREDBROKER_BOT_CONFIG')
  if (inline !== undefined) return { text: inline, source: 'CREDBROKER_BOT_CONFIG' }
  const file = optionalString(env, 'CREDBROKER_BOT_CONFIG_FILE') ?? 'bot.yaml'
  const path = resolve(cwd, file)
  try {
    return { text: readFileSync(path, 'utf8'), source: file }
  } catch {
    throw new InvalidConfigError('CREDBROKER_BOT_CONFIG_FILE', `cannot read ${path}`)
  }
}

/** The config with `auth_server` replaced; YAML errors are reported by the normal parser. */
function withAuthServer(text: string, authServer: URL, options: { baseDir: string; source: string }) {
  let value: unknown
  try {
    value = parseYaml(text)
  } catch {
    return parseBotConfig(text, options)
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value))
    return parseBotConfig(text, options)
  return validateBotConfig({ ...value, auth_server: authServer.toString() }, options)
}

function checkLambdaFit(bot: BotConfig): void {
  const noDisk = 'cannot be a directory in a Lambda function (no durable disk); use aws_secrets_manager'
  if (bot.storage.type === 'directory') throw new InvalidConfigError('storage.type', noDisk)
  bot.outputs.forEach((output, i) => {
    if (output.destination.type === 'directory') {
      throw new InvalidConfigError(`outputs[${i}].destination.type`, noDisk)
    }
  })
  if (bot.onboarding.joinMethod === 'token' && bot.storage.type !== 'aws_secrets_manager') {
    throw new InvalidConfigError(
      'storage.type',
      'must be aws_secrets_manager for a token-joined bot in Lambda: the one-time token is spent on the first run',
    )
  }
}
