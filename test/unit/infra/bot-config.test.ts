/**
 * The deploy-time check of the rotate function's bot config (`infra/bot-config.ts`), and the
 * shipped example in examples/deploy/.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { loadDeployedBotConfig } from '../../../infra/bot-config.ts'
import { loadInfraConfig } from '../../../infra/config.ts'
import { parseSchedule } from '../../../infra/schedule.ts'

const dir = mkdtempSync(join(tmpdir(), 'credbroker-infra-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const DEV = { secretPrefix: 'credbroker/dev/example/', schedule: parseSchedule('rate(20 minutes)', 'S') }
const KEY = 'arn:aws:kms:us-east-1:123456789012:key/0b6c2f7e-1111-2222-3333-444455556666'

/** A bot config with `outputs` (YAML lines) and `rest` appended. */
function botYaml(outputs: string, rest = ''): string {
  return `version: v1
auth_server: https://auth.invalid
onboarding:
  join_method: iam
  token: lambda-bot
storage:
  type: memory
credential_ttl: 1h
outputs:
${outputs}
${rest}`
}

function secretOutput(name: string, extra = ''): string {
  return `  - type: identity
    roles: [access]
    destination:
      type: aws_secrets_manager
      name: ${name}
${extra === '' ? '' : `${extra}\n`}`
}

function check(text: string, context: Partial<typeof DEV> = {}) {
  const file = `bot-${Math.random().toString(36).slice(2)}.yaml`
  writeFileSync(join(dir, file), text)
  return loadDeployedBotConfig({ root: dir, file, ...DEV, ...context })
}

function failure(run: () => unknown): string {
  try {
    run()
  } catch (err) {
    assert.equal((err as { code?: unknown }).code, 'ERR_INVALID_CONFIG')
    return (err as Error).message
  }
  assert.fail('expected an InvalidConfigError')
}

describe('loadDeployedBotConfig', () => {
  it('ok/the shipped example fits the default settings of stage dev', () => {
    const config = loadInfraConfig({ app: 'credbroker', stage: 'dev', env: {} })
    const bot = loadDeployedBotConfig({
      root: process.cwd(),
      file: config.botConfigFile,
      secretPrefix: config.secretPrefix,
      schedule: config.schedule,
    })
    assert.deepEqual(bot, { secretRegions: [], secretKmsKeyArns: [], warnings: [] })
  })

  it('ok/regions and customer-managed keys of the outputs are collected once', () => {
    const bot = check(
      botYaml(
        secretOutput('credbroker/dev/example/a', `      region: us-east-1\n      kms_key_id: ${KEY}`) +
          secretOutput('credbroker/dev/example/b', `      region: us-east-1\n      kms_key_id: ${KEY}`),
      ),
    )
    assert.deepEqual(bot.secretRegions, ['us-east-1'])
    assert.deepEqual(bot.secretKmsKeyArns, [KEY])
  })

  it('fail/a secret outside the bot’s prefix: IAM would deny every write', () => {
    assert.match(
      failure(() => check(botYaml(secretOutput('credbroker/prod/example/ssh')))),
      /outputs\[0\]\.destination\.name: credbroker\/prod\/example\/ssh must start with credbroker\/dev\/example\//,
    )
  })

  it('fail/storage in a secret outside the prefix', () => {
    const text = botYaml(secretOutput('credbroker/dev/example/ssh')).replace(
      'storage:\n  type: memory',
      'storage:\n  type: aws_secrets_manager\n  name: elsewhere/bot',
    )
    assert.match(
      failure(() => check(text)),
      /storage\.name: elsewhere\/bot must start with/,
    )
  })

  it('fail/a KMS alias cannot scope IAM', () => {
    assert.match(
      failure(() =>
        check(botYaml(secretOutput('credbroker/dev/example/a', '      kms_key_id: alias/secrets'))),
      ),
      /kms_key_id: must be a key ARN/,
    )
  })

  it('fail/a credential that outlives only one run', () => {
    assert.match(
      failure(() =>
        check(botYaml(secretOutput('credbroker/dev/example/a')), {
          schedule: parseSchedule('rate(45 minutes)', 'S'),
        }),
      ),
      /outputs\[0\]: credential_ttl 1h0m0s is shorter than two runs of rate\(45 minutes\)/,
    )
  })

  it("fail/an output's longer TTL does not count: certificates never outlive the bot identity", () => {
    const output = secretOutput(
      'credbroker/dev/example/a',
      '    credential_ttl: 4h\n    renewal_interval: 1h',
    )
    assert.match(
      failure(() => check(botYaml(output), { schedule: parseSchedule('rate(1 hour)', 'S') })),
      /outputs\[0\]: credential_ttl 1h0m0s \(capped by the bot's credential_ttl\) is shorter than two runs/,
    )
  })

  it('ok/a cron schedule has no fixed interval to check', () => {
    assert.deepEqual(
      check(botYaml(secretOutput('credbroker/dev/example/a')), {
        schedule: parseSchedule('cron(0 * * * ? *)', 'S'),
      }).secretRegions,
      [],
    )
  })

  it('fail/the rotate function’s own rules apply at deploy time (no directories in Lambda)', () => {
    const text = botYaml(
      '  - type: identity\n    roles: [access]\n    destination:\n      type: directory\n      path: out',
    )
    assert.match(
      failure(() => check(text)),
      /^CREDBROKER_DEPLOY_BOT_CONFIG \(bot-\w+\.yaml\): .*directory/,
    )
  })

  it('fail/a missing file names the setting', () => {
    assert.match(
      failure(() => loadDeployedBotConfig({ root: dir, file: 'missing.yaml', ...DEV })),
      /^CREDBROKER_DEPLOY_BOT_CONFIG \(missing\.yaml\): /,
    )
  })
})
