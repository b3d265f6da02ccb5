/**
 * The Lambda functions' configuration from the environment: what each needs, defaults, and
 * errors that name the variable (or the bot config field) to fix.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { Env } from '../../../lib/config/env.ts'
import { loadAuthLambdaConfig } from '../../../lib/serverless/auth-config.ts'
import { loadRotateLambdaConfig } from '../../../lib/serverless/rotate-config.ts'

const dir = mkdtempSync(join(tmpdir(), 'credbroker-lambda-config-'))
after(() => rmSync(dir, { recursive: true, force: true }))

/** Asserts an ERR_INVALID_CONFIG naming `field`, with a message matching `message`. */
function refuses(fn: () => unknown, field: string, message?: RegExp): void {
  assert.throws(fn, (err: unknown) => {
    const e = err as { code?: string; message?: string; field?: string }
    assert.equal(e.code, 'ERR_INVALID_CONFIG', String(err))
    assert.ok(e.message?.includes(field), `${e.message} names ${field}`)
    if (message) assert.match(e.message ?? '', message)
    return true
  })
}

const AUTH: Env = {
  CREDBROKER_STORE: 'dynamodb',
  CREDBROKER_DYNAMODB_TABLE: 'credbroker-prod-state',
  AWS_REGION: 'eu-west-1',
  CREDBROKER_KMS_KEYS: JSON.stringify({ 'user-tls': 'arn:aws:kms:eu-west-1:111111111111:key/abc' }),
}

describe('loadAuthLambdaConfig', () => {
  it('ok/the deployed defaults: KMS with DIGEST signing, no public origin, no bootstrap', () => {
    const config = loadAuthLambdaConfig(AUTH, dir)
    assert.equal(config.service.store.tableName, 'credbroker-prod-state')
    assert.deepEqual(config.kms, {
      keys: { 'user-tls': 'arn:aws:kms:eu-west-1:111111111111:key/abc' },
      messageType: 'DIGEST',
    })
    assert.equal(config.publicAddr, undefined)
    assert.equal(config.bootstrapFile, undefined)
    assert.ok(Object.isFrozen(config.kms.keys))
  })

  it('ok/overrides: public origin, bootstrap file relative to the code root, endpoints', () => {
    const config = loadAuthLambdaConfig(
      {
        ...AUTH,
        CREDBROKER_PUBLIC_ADDR: 'https://auth.example.com',
        CREDBROKER_BOOTSTRAP_FILE: 'bootstrap.yaml',
        CREDBROKER_KMS_ENDPOINT: 'http://127.0.0.1:5000',
        CREDBROKER_KMS_MESSAGE_TYPE: 'RAW',
        CREDBROKER_STS_ENDPOINT: 'http://127.0.0.1:5000',
      },
      '/var/task',
    )
    assert.equal(config.publicAddr, 'https://auth.example.com')
    assert.equal(config.bootstrapFile, '/var/task/bootstrap.yaml')
    assert.equal(config.kms.messageType, 'RAW')
    assert.equal(config.stsEndpoint?.href, 'http://127.0.0.1:5000/')
  })

  const cases: ReadonlyArray<readonly [string, Env, string, RegExp?]> = [
    ['the embedded store', { ...AUTH, CREDBROKER_STORE: 'embedded' }, 'CREDBROKER_STORE', /dynamodb/],
    ['no table', { ...AUTH, CREDBROKER_DYNAMODB_TABLE: '' }, 'CREDBROKER_DYNAMODB_TABLE'],
    ['another key store', { ...AUTH, CREDBROKER_KEY_STORE: 'file' }, 'CREDBROKER_KEY_STORE'],
    ['no KMS keys', { ...AUTH, CREDBROKER_KMS_KEYS: undefined }, 'CREDBROKER_KMS_KEYS', /required/],
    ['KMS keys not JSON', { ...AUTH, CREDBROKER_KMS_KEYS: 'user-tls=arn' }, 'CREDBROKER_KMS_KEYS', /JSON/],
    ['KMS keys a list', { ...AUTH, CREDBROKER_KMS_KEYS: '["arn"]' }, 'CREDBROKER_KMS_KEYS', /object/],
    ['a bad label', { ...AUTH, CREDBROKER_KMS_KEYS: '{"User TLS":"arn"}' }, 'CREDBROKER_KMS_KEYS', /label/],
    [
      'an empty key',
      { ...AUTH, CREDBROKER_KMS_KEYS: '{"user-tls":" "}' },
      'CREDBROKER_KMS_KEYS',
      /non-empty/,
    ],
    ['a message type', { ...AUTH, CREDBROKER_KMS_MESSAGE_TYPE: 'raw' }, 'CREDBROKER_KMS_MESSAGE_TYPE'],
    [
      'a public address with a path',
      { ...AUTH, CREDBROKER_PUBLIC_ADDR: 'https://a.example/x' },
      'CREDBROKER_PUBLIC_ADDR',
    ],
    [
      'a public address not a URL',
      { ...AUTH, CREDBROKER_PUBLIC_ADDR: 'auth.example.com' },
      'CREDBROKER_PUBLIC_ADDR',
    ],
  ]
  for (const [label, env, field, message] of cases) {
    it(`fail/${label} names ${field}`, () => refuses(() => loadAuthLambdaConfig(env, dir), field, message))
  }
})

const BOT = `
version: v1
auth_server: https://auth.example.com
onboarding:
  join_method: iam
  token: rotate-bot
storage:
  type: memory
outputs:
  - type: identity
    name: ssh
    roles: [access]
    destination:
      type: aws_secrets_manager
      name: credbroker/prod/example/ssh
`

describe('loadRotateLambdaConfig', () => {
  const base: Env = { AWS_REGION: 'eu-west-1', CREDBROKER_BOT_CONFIG: BOT }

  it('ok/inline config, one-shot, region from the environment', () => {
    const config = loadRotateLambdaConfig(base, dir)
    assert.equal(config.bot.oneshot, true)
    assert.equal(config.bot.authServer, 'https://auth.example.com')
    assert.equal(config.region, 'eu-west-1')
    assert.equal(config.logLevel, 'info')
    assert.equal(config.botName, undefined)
  })

  it('ok/the config file next to the handler, with the auth URL and bot name from the environment', () => {
    writeFileSync(join(dir, 'bot.yaml'), BOT)
    const config = loadRotateLambdaConfig(
      {
        AWS_REGION: 'eu-west-1',
        CREDBROKER_AUTH_SERVER: 'https://abc.lambda-url.eu-west-1.on.aws/',
        CREDBROKER_BOT_NAME: 'example',
        CREDBROKER_SECRETS_MANAGER_ENDPOINT: 'http://127.0.0.1:5000',
      },
      dir,
    )
    assert.equal(config.bot.authServer, 'https://abc.lambda-url.eu-west-1.on.aws')
    assert.equal(config.botName, 'example')
    assert.equal(config.secretsManagerEndpoint, 'http://127.0.0.1:5000/')
  })

  const swap = (from: string, to: string) => ({ ...base, CREDBROKER_BOT_CONFIG: BOT.replace(from, to) })
  const cases: ReadonlyArray<readonly [string, Env, string, RegExp?]> = [
    ['no region', { CREDBROKER_BOT_CONFIG: BOT }, 'AWS_REGION'],
    [
      'a missing config file',
      { AWS_REGION: 'eu-west-1', CREDBROKER_BOT_CONFIG_FILE: 'nope.yaml' },
      'CREDBROKER_BOT_CONFIG_FILE',
      /cannot read/,
    ],
    [
      'an auth URL over http',
      { ...base, CREDBROKER_AUTH_SERVER: 'ftp://auth.example.com' },
      'CREDBROKER_AUTH_SERVER',
    ],
    [
      'a directory destination',
      swap(
        'type: aws_secrets_manager\n      name: credbroker/prod/example/ssh',
        'type: directory\n      path: /tmp/out',
      ),
      'outputs[0].destination.type',
      /no durable disk/,
    ],
    [
      'directory storage',
      swap('storage:\n  type: memory', 'storage:\n  type: directory\n  path: /tmp/s'),
      'storage.type',
    ],
    [
      'a token-joined bot on memory storage',
      swap('join_method: iam\n  token: rotate-bot', 'join_method: token\n  token: abc123'),
      'storage.type',
      /one-time token/,
    ],
    ['a log level', { ...base, CREDBROKER_LOG_LEVEL: 'verbose' }, 'CREDBROKER_LOG_LEVEL'],
  ]
  for (const [label, env, field, message] of cases) {
    it(`fail/${label} names ${field}`, () => refuses(() => loadRotateLambdaConfig(env, dir), field, message))
  }
})
