import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { loadConfig } from '../../../lib/config/load-config.ts'

describe('loadConfig', () => {
  it('ok/defaults: embedded store under the working directory', () => {
    const config = loadConfig({}, '/srv/app')
    assert.deepEqual(config, {
      clusterName: 'credbroker.local',
      logLevel: 'info',
      store: { kind: 'embedded', stateDir: '/srv/app/.credbroker' },
      listen: { host: '127.0.0.1', port: 3025 },
      iam: { extraStsHosts: [], admins: [] },
    })
  })

  it('ok/dynamodb with an endpoint override', () => {
    const config = loadConfig({
      CREDBROKER_STORE: 'dynamodb',
      CREDBROKER_DYNAMODB_TABLE: 'credbroker-state',
      AWS_REGION: 'eu-west-1',
      CREDBROKER_DYNAMODB_ENDPOINT: 'http://127.0.0.1:5000',
    })
    assert.equal(config.store.kind, 'dynamodb')
    assert.equal(config.store.kind === 'dynamodb' && config.store.endpoint?.host, '127.0.0.1:5000')
  })

  it('ok/the result is deeply frozen', () => {
    const config = loadConfig({ CREDBROKER_STATE_DIR: '/var/lib/credbroker' })
    assert.ok(Object.isFrozen(config))
    assert.ok(Object.isFrozen(config.store))
    assert.throws(() => {
      ;(config as { clusterName: string }).clusterName = 'x'
    }, TypeError)
  })

  const failures: Array<[string, Record<string, string>, string, RegExp]> = [
    [
      'unknown store kind',
      { CREDBROKER_STORE: 'redis' },
      'CREDBROKER_STORE',
      /one of embedded, memory, dynamodb/,
    ],
    [
      'dynamodb without table',
      { CREDBROKER_STORE: 'dynamodb', AWS_REGION: 'us-east-1' },
      'CREDBROKER_DYNAMODB_TABLE',
      /required/,
    ],
    [
      'dynamodb without region',
      { CREDBROKER_STORE: 'dynamodb', CREDBROKER_DYNAMODB_TABLE: 'tbl' },
      'AWS_REGION',
      /required/,
    ],
    [
      'bad table name',
      { CREDBROKER_STORE: 'dynamodb', CREDBROKER_DYNAMODB_TABLE: 'a b', AWS_REGION: 'us-east-1' },
      'CREDBROKER_DYNAMODB_TABLE',
      /3-255/,
    ],
    [
      'bad endpoint',
      {
        CREDBROKER_STORE: 'dynamodb',
        CREDBROKER_DYNAMODB_TABLE: 'tbl',
        AWS_REGION: 'us-east-1',
        CREDBROKER_DYNAMODB_ENDPOINT: 'ftp://x',
      },
      'CREDBROKER_DYNAMODB_ENDPOINT',
      /http or https/,
    ],
    ['bad cluster name', { CREDBROKER_CLUSTER_NAME: 'Not A Name' }, 'CREDBROKER_CLUSTER_NAME', /DNS name/],
    ['bad listen address', { CREDBROKER_LISTEN: '127.0.0.1' }, 'CREDBROKER_LISTEN', /host:port/],
    ['bad listen port', { CREDBROKER_LISTEN: '127.0.0.1:70000' }, 'CREDBROKER_LISTEN', /1-65535/],
    [
      'bad extra STS host',
      { CREDBROKER_IAM_EXTRA_STS_HOSTS: 'sts.example.com,10.0.0.1:443' },
      'CREDBROKER_IAM_EXTRA_STS_HOSTS',
      /not a lower-case DNS name/,
    ],
    ['bad log level', { CREDBROKER_LOG_LEVEL: 'loud' }, 'CREDBROKER_LOG_LEVEL', /debug, info, warn, error/],
  ]
  for (const [name, env, field, message] of failures) {
    it(`fail/${name}`, () => {
      assert.throws(
        () => loadConfig(env),
        (err: unknown) => {
          const e = err as { code: string; field: string; message: string; status: number }
          assert.equal(e.code, 'ERR_INVALID_CONFIG')
          assert.equal(e.field, field)
          assert.match(e.message, new RegExp(`^${field}: `))
          assert.match(e.message, message)
          return true
        },
      )
    })
  }
})
