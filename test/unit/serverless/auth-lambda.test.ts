/**
 * The auth Lambda's start: the bootstrap file is applied on the first start of a deployment only
 * (a resource an operator deletes stays deleted across cold starts), and a start that fails is
 * answered with a generic error and retried by the next event.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import { MemoryKeyStore } from '../../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../../lib/adapters/memory/store.ts'
import { ManualClock } from '../../../lib/clock.ts'
import { StoreUnavailableError } from '../../../lib/errors.ts'
import { silentLogger } from '../../../lib/log.ts'
import type { Store } from '../../../lib/ports/store.ts'
import { cryptoRandom } from '../../../lib/random.ts'
import { loadAuthLambdaConfig } from '../../../lib/serverless/auth-config.ts'
import { createAuthLambdaHandler } from '../../../lib/serverless/auth-lambda.ts'
import type { FunctionUrlEvent } from '../../../lib/serverless/function-url.ts'

const dir = mkdtempSync(join(tmpdir(), 'credbroker-auth-lambda-'))
after(() => rmSync(dir, { recursive: true, force: true }))

const BOOTSTRAP = `
kind: bot
version: v1
metadata: { name: deployed }
spec: { roles: [] }
---
kind: token
version: v1
metadata: { name: rotate-bot }
spec:
  join_method: iam
  bot_name: deployed
  allow: [{ aws_account: "111111111111" }]
`

function config() {
  writeFileSync(join(dir, 'bootstrap.yaml'), BOOTSTRAP)
  return loadAuthLambdaConfig(
    {
      CREDBROKER_STORE: 'dynamodb',
      CREDBROKER_DYNAMODB_TABLE: 'credbroker-test',
      AWS_REGION: 'eu-west-1',
      CREDBROKER_KMS_KEYS: '{}',
      CREDBROKER_BOOTSTRAP_FILE: 'bootstrap.yaml',
    },
    dir,
  )
}

function event(path: string): FunctionUrlEvent {
  return {
    version: '2.0',
    routeKey: '$default',
    rawPath: path,
    rawQueryString: '',
    headers: {},
    requestContext: {
      accountId: 'anonymous',
      apiId: 'x',
      domainName: 'x.lambda-url.eu-west-1.on.aws',
      domainPrefix: 'x',
      http: { method: 'GET', path, protocol: 'HTTP/1.1', sourceIp: '203.0.113.1', userAgent: 't' },
      requestId: 'r',
      routeKey: '$default',
      stage: '$default',
      time: '',
      timeEpoch: 0,
    },
    isBase64Encoded: false,
  }
}

/** A cold start: a new handler on the deployment's (shared) store and keys. */
function coldStart(store: Store, keys: MemoryKeyStore) {
  return createAuthLambdaHandler(config(), {
    clock: new ManualClock(),
    random: cryptoRandom,
    log: silentLogger,
    store,
    keys,
  })
}

describe('auth Lambda start', () => {
  it('ok/bootstrap runs on the first start only: a deleted token stays deleted', async () => {
    const clock = new ManualClock()
    const store = new MemoryStore({ clock })
    const keys = new MemoryKeyStore()
    const first = await coldStart(store, keys)(event('/v1/ping'))
    assert.equal(first.statusCode, 200)
    assert.ok(await store.get('token/rotate-bot'), 'the first start created the token')
    await store.delete('token/rotate-bot')

    const second = await coldStart(store, keys)(event('/v1/ping'))
    assert.equal(second.statusCode, 200)
    assert.equal(await store.get('token/rotate-bot'), undefined, 'a later cold start does not bring it back')
  })

  it('fail→ok/a start that fails is a generic 503, and the next event starts again', async () => {
    const clock = new ManualClock()
    const inner = new MemoryStore({ clock })
    let down = true
    const flaky: Store = new Proxy(inner, {
      get(target, prop, receiver) {
        const value = Reflect.get(target, prop, receiver)
        if (typeof value !== 'function') return value
        return (...args: unknown[]) => {
          if (down)
            throw new StoreUnavailableError('table credbroker-test in account 123456789012 is unreachable')
          return value.apply(target, args)
        }
      },
    })
    const handler = coldStart(flaky, new MemoryKeyStore())
    const failed = await handler(event('/v1/ping'))
    assert.equal(failed.statusCode, 503)
    const body = JSON.parse(failed.body ?? '') as { code: string; message: string }
    assert.equal(body.code, 'ERR_STORE_UNAVAILABLE')
    assert.doesNotMatch(body.message, /123456789012|credbroker-test/, 'no internal detail reaches the caller')
    down = false
    assert.equal((await handler(event('/v1/ping'))).statusCode, 200)
  })
})
