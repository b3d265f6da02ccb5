/** The deployment's settings (`infra/config.ts`, `infra/schedule.ts`): defaults, knobs, refusals. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadInfraConfig, roleName } from '../../../infra/config.ts'
import { baseUrl } from '../../../infra/lambda.ts'
import { parseSchedule } from '../../../infra/schedule.ts'

const load = (env: Record<string, string> = {}, stage = 'dev') =>
  loadInfraConfig({ app: 'credbroker', stage, env })

/** The InvalidConfigError's message for a load that must fail. */
function failure(run: () => unknown): string {
  try {
    run()
  } catch (err) {
    assert.equal((err as { code?: unknown }).code, 'ERR_INVALID_CONFIG')
    return (err as Error).message
  }
  assert.fail('expected an InvalidConfigError')
}

describe('loadInfraConfig', () => {
  it('ok/defaults derive from the app and stage', () => {
    const config = load()
    assert.equal(config.production, false)
    assert.equal(config.clusterName, 'credbroker-dev')
    assert.equal(config.botName, 'example')
    assert.equal(config.secretPrefix, 'credbroker/dev/example/')
    assert.deepEqual(config.schedule, { expression: 'rate(20 minutes)', intervalMs: 20 * 60_000 })
    assert.equal(config.logLevel, 'info')
    assert.equal(config.botConfigFile, 'examples/deploy/bot.yaml')
    assert.equal(config.bootstrapFile, undefined)
    assert.deepEqual(config.names, {
      authFunction: 'credbroker-dev-auth',
      rotateFunction: 'credbroker-dev-rotate',
      reissueFunction: 'credbroker-dev-reissue',
      eventBus: 'credbroker-dev-auth-events',
    })
    assert.ok(Object.isFrozen(config.names))
  })

  it('ok/production is the stage named production', () => {
    assert.equal(load({}, 'production').production, true)
    assert.equal(load({}, 'prod').production, false)
  })

  it('ok/every knob is read from its CREDBROKER_DEPLOY_ variable', () => {
    const config = load({
      CREDBROKER_DEPLOY_CLUSTER_NAME: 'ca.example.com',
      CREDBROKER_DEPLOY_BOT_NAME: 'ci',
      CREDBROKER_DEPLOY_SCHEDULE: 'rate(1 hour)',
      CREDBROKER_DEPLOY_BOT_CONFIG: 'deploy/ci-bot.yaml',
      CREDBROKER_DEPLOY_BOOTSTRAP: 'deploy/bootstrap.yaml',
      CREDBROKER_DEPLOY_LOG_LEVEL: 'debug',
      // The run-time variables of the CLI are not deployment settings.
      CREDBROKER_CLUSTER_NAME: 'ignored.local',
    })
    assert.equal(config.clusterName, 'ca.example.com')
    assert.equal(config.secretPrefix, 'credbroker/dev/ci/')
    assert.equal(config.schedule.intervalMs, 3_600_000)
    assert.equal(config.botConfigFile, 'deploy/ci-bot.yaml')
    assert.equal(config.bootstrapFile, 'deploy/bootstrap.yaml')
    assert.equal(config.logLevel, 'debug')
  })

  const refused: [string, Record<string, string>, string, RegExp][] = [
    ['fail/uppercase stage', {}, 'Dev', /^stage: "Dev" must be 1 to 24/],
    ['fail/stage too long for role names', {}, 'a'.repeat(25), /^stage: /],
    ['fail/stage with a dot', {}, 'pr.1', /^stage: /],
    ['fail/bot name', { CREDBROKER_DEPLOY_BOT_NAME: 'a/b' }, 'dev', /^CREDBROKER_DEPLOY_BOT_NAME: /],
    [
      'fail/cluster name',
      { CREDBROKER_DEPLOY_CLUSTER_NAME: 'Not DNS' },
      'dev',
      /^CREDBROKER_DEPLOY_CLUSTER_NAME: /,
    ],
    ['fail/log level', { CREDBROKER_DEPLOY_LOG_LEVEL: 'trace' }, 'dev', /^CREDBROKER_DEPLOY_LOG_LEVEL: /],
    ['fail/schedule', { CREDBROKER_DEPLOY_SCHEDULE: '20m' }, 'dev', /^CREDBROKER_DEPLOY_SCHEDULE: /],
    ['fail/bot config outside the project', { CREDBROKER_DEPLOY_BOT_CONFIG: '../bot.yaml' }, 'dev', /\.\./],
    [
      'fail/absolute bootstrap path',
      { CREDBROKER_DEPLOY_BOOTSTRAP: '/etc/x.yaml' },
      'dev',
      /^CREDBROKER_DEPLOY_BOOTSTRAP: /,
    ],
  ]
  for (const [name, env, stage, message] of refused) {
    it(name, () =>
      assert.match(
        failure(() => load(env, stage)),
        message,
      ),
    )
  }
})

describe('roleName', () => {
  it('ok/the region is part of the name: roles are global, functions regional', () => {
    assert.equal(roleName('credbroker-dev-rotate', 'eu-west-1'), 'credbroker-dev-rotate-eu-west-1')
  })

  it('ok/the longest stage fits IAM’s 64 characters in the longest region', () => {
    const { names } = load({}, 'a'.repeat(24))
    assert.ok(roleName(names.rotateFunction, 'ap-southeast-5').length <= 64)
  })
})

describe('parseSchedule', () => {
  const ok: [string, number | undefined][] = [
    ['rate(1 minute)', 60_000],
    ['rate(20 minutes)', 1_200_000],
    ['rate(1 hour)', 3_600_000],
    ['rate(2 days)', 172_800_000],
    ['cron(0/20 * * * ? *)', undefined],
  ]
  for (const [text, intervalMs] of ok) {
    it(`ok/${text}`, () => assert.deepEqual(parseSchedule(text, 'S'), { expression: text, intervalMs }))
  }

  const bad: [string, RegExp][] = [
    ['rate(1 minutes)', /write "rate\(1 minute\)"/],
    ['rate(5 minute)', /write "rate\(5 minutes\)"/],
    ['rate(0 minutes)', /at least 1/],
    ['rate(20 mins)', /must be "rate/],
    ['at(2030-01-01T00:00:00)', /must be "rate/],
    ['cron(0 * * * ?)', /must be "rate/],
  ]
  for (const [text, message] of bad) {
    it(`fail/${text}`, () =>
      assert.match(
        failure(() => parseSchedule(text, 'S')),
        message,
      ))
  }
})

describe('baseUrl', () => {
  it('ok/a Function URL loses its trailing slash: the bot appends /v1/… paths', () => {
    assert.equal(
      baseUrl('https://abc.lambda-url.eu-west-1.on.aws/'),
      'https://abc.lambda-url.eu-west-1.on.aws',
    )
    assert.equal(baseUrl('https://auth.example.com'), 'https://auth.example.com')
  })
})
