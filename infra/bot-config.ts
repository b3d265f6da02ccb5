/**
 * Checks the deployed bot's YAML before anything is deployed, so a mistake fails `sst deploy`
 * instead of the first scheduled run. No SST globals, so unit tests import it directly.
 *
 * The file is loaded exactly as the rotate function will load it (`lib/serverless/rotate-config.ts`:
 * the bot's own validation, no directories, token joins need Secrets Manager storage). On top:
 * - every Secrets Manager name (outputs and storage) starts with the bot's prefix
 *   `credbroker/<stage>/<bot>/`: IAM lets the rotate function write nothing else;
 * - `kms_key_id` is a key ARN: IAM grants `kms:GenerateDataKey`/`kms:Decrypt` on key ARNs, not on
 *   ids or aliases;
 * - with a `rate()` schedule, every credential lives at least two intervals, so each one gets a
 *   second chance to be renewed before it expires.
 */
import type { BotConfig, DestinationConfig } from '../lib/bot/config.ts'
import { formatDuration } from '../lib/duration.ts'
import { InvalidConfigError, isBrokerError } from '../lib/errors.ts'
import { loadRotateLambdaConfig } from '../lib/serverless/rotate-config.ts'
import type { Schedule } from './schedule.ts'

/** What the infrastructure grants the rotate function, read from its bot configuration. */
export interface DeployedBot {
  /** Regions named by Secrets Manager destinations; the function's own region is always granted. */
  readonly secretRegions: readonly string[]
  /** Customer-managed KMS keys of the bot's secrets (key ARNs). */
  readonly secretKmsKeyArns: readonly string[]
  /** Warning-class problems, one sentence each, for the deploy log. */
  readonly warnings: readonly string[]
}

export interface DeployedBotContext {
  /** The directory `file` is relative to (the project root). */
  readonly root: string
  /** The bot config, as named by `CREDBROKER_DEPLOY_BOT_CONFIG`. */
  readonly file: string
  readonly secretPrefix: string
  readonly schedule: Schedule
}

const KMS_KEY_ARN = /^arn:aws(?:-[a-z]+)*:kms:[a-z0-9-]+:\d{12}:key\/[A-Za-z0-9-]{1,64}$/

/**
 * Loads and checks the bot config the rotate function will run.
 * @throws InvalidConfigError naming the file and the field.
 */
export function loadDeployedBotConfig(context: DeployedBotContext): DeployedBot {
  const { file } = context
  let loaded: ReturnType<typeof loadRotateLambdaConfig>
  try {
    // The region only fills in destinations that name none; any valid one will do here.
    loaded = loadRotateLambdaConfig(
      { AWS_REGION: 'us-east-1', CREDBROKER_BOT_CONFIG_FILE: file },
      context.root,
    )
  } catch (err) {
    if (isBrokerError(err))
      throw new InvalidConfigError(`CREDBROKER_DEPLOY_BOT_CONFIG (${file})`, err.message)
    throw err
  }
  return { ...checkDeployedBot(loaded.bot, context), warnings: loaded.warnings }
}

/** The deployment's own rules over an already-valid bot config (see the module comment). */
export function checkDeployedBot(
  bot: BotConfig,
  context: Pick<DeployedBotContext, 'file' | 'secretPrefix' | 'schedule'>,
): Omit<DeployedBot, 'warnings'> {
  const { secretPrefix, schedule } = context
  const fail = (field: string, problem: string): never => {
    throw new InvalidConfigError(`${context.file}: ${field}`, problem)
  }
  const destinations: [string, DestinationConfig][] = [
    ['storage', bot.storage],
    ...bot.outputs.map((o, i): [string, DestinationConfig] => [`outputs[${i}].destination`, o.destination]),
  ]
  const secrets = destinations.flatMap(([field, d]) =>
    d.type === 'aws_secrets_manager' ? [{ field, d }] : [],
  )
  for (const { field, d } of secrets) {
    if (!d.name.startsWith(secretPrefix)) {
      fail(`${field}.name`, `${d.name} must start with ${secretPrefix}: the bot may write no other secret`)
    }
    if (d.kmsKeyId !== undefined && !KMS_KEY_ARN.test(d.kmsKeyId)) {
      fail(
        `${field}.kms_key_id`,
        'must be a key ARN (arn:aws:kms:<region>:<account>:key/<id>) to scope IAM to it',
      )
    }
  }
  const interval = schedule.intervalMs
  bot.outputs.forEach((output, i) => {
    // Issued certificates never outlive the bot's own identity, whatever the output asks for.
    const ttlMs = Math.min(output.lifetime.ttlMs, bot.lifetime.ttlMs)
    if (interval !== undefined && ttlMs < 2 * interval) {
      const capped = ttlMs < output.lifetime.ttlMs ? ` (capped by the bot's credential_ttl)` : ''
      fail(
        `outputs[${i}]`,
        `credential_ttl ${formatDuration(ttlMs)}${capped} is shorter than two runs of ` +
          `${schedule.expression}: one failed run would let the credential expire`,
      )
    }
  })
  return {
    secretRegions: unique(secrets.flatMap(({ d }) => (d.region === undefined ? [] : [d.region]))),
    secretKmsKeyArns: unique(secrets.flatMap(({ d }) => (d.kmsKeyId === undefined ? [] : [d.kmsKeyId]))),
  }
}

function unique(values: string[]): string[] {
  return [...new Set(values)].sort()
}
