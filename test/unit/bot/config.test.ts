import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { resolve } from 'node:path'
import { describe, it } from 'node:test'
import { stringify } from 'yaml'
import { type BotConfig, type ParsedBotConfig, parseBotConfig } from '../../../lib/bot/config.ts'
import { InvalidConfigError } from '../../../lib/errors.ts'

const BASE_DIR = '/srv/bot'
const REPO_ROOT = resolve(import.meta.dirname, '../../..')

/** A minimal valid configuration; cases patch a fresh copy. */
function base(): Record<string, unknown> {
  return {
    version: 'v1',
    auth_server: 'http://127.0.0.1:3025',
    onboarding: { join_method: 'token', token: './token' },
    storage: { type: 'directory', path: 'data' },
    outputs: [id({ type: 'directory', path: 'out/ssh' })],
  }
}

type Doc = Record<string, unknown> & { outputs: Record<string, unknown>[] }

function parse(patch: (doc: Doc) => unknown = () => {}): ParsedBotConfig {
  const doc = base() as Doc
  patch(doc)
  return parseBotConfig(stringify(doc), { baseDir: BASE_DIR })
}

const k8s = (destination: unknown, extra: object = {}) => ({
  type: 'kubernetes',
  kubernetes_cluster: 'prod',
  destination,
  ...extra,
})
const secret = (name: string) => ({ type: 'aws_secrets_manager', name })
const dir = (path: string) => ({ type: 'directory', path })
const id = (destination: unknown, extra: object = {}) => ({ type: 'identity', destination, ...extra })
/** A patch that replaces the first output. */
const out0 = (output: Record<string, unknown>) => (d: Doc) => (d.outputs[0] = output)

/** `[name, field, patch, message?]`: the patched base document must fail on `field`. */
type FailCase = readonly [name: string, field: string, patch: (doc: Doc) => unknown, message?: RegExp]

const failCases: FailCase[] = [
  ['fail/version missing', 'version', (d) => delete d.version, /required/],
  ['fail/version v2', 'version', (d) => (d.version = 'v2'), /supported.*v1/],
  [
    'fail/unknown top-level field',
    'auth_sever',
    (d) => (d.auth_sever = 'x'),
    /unknown field "auth_sever" \(did you mean "auth_server"\?\)/,
  ],
  [
    'fail/unknown destination field',
    'outputs[0].destination.pth',
    out0(id({ type: 'directory', pth: 'x' })),
    /unknown field "pth"/,
  ],
  [
    'fail/unknown output type',
    'outputs[0].type',
    out0({ type: 'spiffe', destination: dir('x') }),
    /unknown value "spiffe"; expected one of: "identity"/,
  ],
  [
    'fail/field of another output type',
    'outputs[0].app_name',
    out0({ type: 'identity', app_name: 'a', destination: dir('x') }),
  ],
  ['fail/auth_server missing', 'auth_server', (d) => delete d.auth_server],
  [
    'fail/auth_server http to a remote host',
    'auth_server',
    (d) => (d.auth_server = 'http://auth.example.com'),
    /https/,
  ],
  [
    'fail/auth_server with credentials',
    'auth_server',
    (d) => (d.auth_server = 'https://u:p@auth.example.com'),
  ],
  ['fail/auth_server ftp', 'auth_server', (d) => (d.auth_server = 'ftp://127.0.0.1')],
  [
    'fail/unknown join method',
    'onboarding.join_method',
    (d) => (d.onboarding = { join_method: 'github', token: 'x' }),
  ],
  [
    'fail/token join without token',
    'onboarding.token',
    (d) => (d.onboarding = { join_method: 'token' }),
    /required/,
  ],
  [
    'fail/iam token is a name',
    'onboarding.token',
    (d) => (d.onboarding = { join_method: 'iam', token: '/path' }),
  ],
  ['fail/storage missing', 'storage', (d) => delete d.storage, /required/],
  ['fail/bad duration', 'credential_ttl', (d) => (d.credential_ttl = '1d')],
  ['fail/zero duration', 'renewal_interval', (d) => (d.renewal_interval = '0s')],
  [
    'fail/bad output duration',
    'outputs[0].renewal_interval',
    out0({ type: 'identity', renewal_interval: 60, destination: dir('x') }),
  ],
  ['fail/oneshot not a boolean', 'oneshot', (d) => (d.oneshot = 'yes')],
  [
    'fail/symlinks policy unknown',
    'outputs[0].destination.symlinks',
    out0(id({ ...dir('x'), symlinks: 'never' })),
  ],
  ['fail/tilde path', 'outputs[0].destination.path', out0(id(dir('~/out')))],
  ['fail/database without service', 'outputs[0].service', out0({ type: 'database', destination: dir('x') })],
  [
    'fail/database format unknown',
    'outputs[0].format',
    out0({ type: 'database', service: 'db', format: 'pem', destination: dir('x') }),
  ],
  [
    'fail/ssh_host without principals',
    'outputs[0].principals',
    out0({ type: 'ssh_host', principals: [], destination: dir('x') }),
  ],
  [
    'fail/secret with a bad region',
    'outputs[0].destination.region',
    out0(id({ ...secret('s'), region: 'mars' })),
  ],
  [
    'fail/secret reader not an IAM principal ARN',
    'outputs[0].destination.readers[0]',
    out0(id({ ...secret('s'), readers: ['alice'] })),
  ],
  [
    'fail/role listed twice',
    'outputs[0].roles[1]',
    out0({ type: 'identity', roles: ['a', 'a'], destination: dir('x') }),
  ],
  [
    'fail/kubernetes exec plugin on Secrets Manager',
    'outputs[0].destination',
    out0(k8s(secret('identity-output'))),
    /^outputs\[0\]\.destination: Destination aws_secrets_manager: identity-output must be a directory in exec plugin mode/,
  ],
  [
    'fail/kubernetes exec plugin on memory',
    'outputs[0].destination',
    out0(k8s({ type: 'memory' }, { name: 'kube' })),
    /Destination memory: kube must be a directory in exec plugin mode/,
  ],
  [
    'fail/duplicate explicit names',
    'outputs[1].name',
    (d) => d.outputs.push({ type: 'identity', name: 'ssh', destination: dir('b') }, d.outputs[0]!),
    /already the name of outputs\[0\]/,
  ],
  ['fail/duplicate derived names', 'outputs[1].name', (d) => d.outputs.push(id(dir('/elsewhere/ssh')))],
  [
    'fail/same directory twice',
    'outputs[1].destination',
    (d) => d.outputs.push({ type: 'identity', name: 'two', destination: dir('/srv/bot/out/ssh/') }),
    /directory \/srv\/bot\/out\/ssh is also outputs\[0\]'s destination/,
  ],
  [
    'fail/nested output directories',
    'outputs[1].destination',
    (d) => d.outputs.push({ type: 'identity', name: 'two', destination: dir('out') }),
    /nests with/,
  ],
  [
    'fail/same secret twice',
    'outputs[1].destination',
    (d) => d.outputs.splice(0, 1, id(secret('ci/ssh')), id(secret('ci/ssh'), { name: 'two' })),
  ],
  [
    'fail/output in the storage directory',
    'outputs[0].destination.path',
    out0(id(dir('data'))),
    /storage directory/,
  ],
  [
    'fail/storage inside an output directory',
    'outputs[0].destination.path',
    (d) => (d.storage = dir('out/ssh/internal')),
  ],
  ['fail/underivable name', 'outputs[0].name', out0(id(dir('/')))],
]

describe('Function: parseBotConfig', () => {
  describe('hard errors name the field', () => {
    for (const [name, field, patch, message] of failCases) {
      it(name, () => {
        assert.throws(
          () => parse(patch),
          (err: unknown) => {
            assert.ok(err instanceof InvalidConfigError, `expected InvalidConfigError, got ${String(err)}`)
            assert.equal(err.code, 'ERR_INVALID_CONFIG')
            assert.equal(err.field, field, err.message)
            if (message) assert.match(err.message, message)
            return true
          },
        )
      })
    }
  })

  describe('valid configurations', () => {
    it('ok/defaults and resolved paths', () => {
      const { config, warnings } = parse()
      assert.deepEqual(warnings, [])
      assert.equal(config.authServer, 'http://127.0.0.1:3025')
      assert.deepEqual(config.onboarding, {
        joinMethod: 'token',
        token: { kind: 'file', path: '/srv/bot/token' },
      })
      assert.deepEqual(config.storage, { type: 'directory', path: '/srv/bot/data', symlinks: 'try-secure' })
      assert.deepEqual(config.lifetime, { ttlMs: 3_600_000, renewalIntervalMs: 1_200_000 })
      assert.equal(config.oneshot, false)
      assert.deepEqual(config.outputs, [
        {
          type: 'identity',
          name: 'ssh',
          roles: [],
          lifetime: config.lifetime,
          destination: { type: 'directory', path: '/srv/bot/out/ssh', symlinks: 'try-secure' },
        },
      ])
    })

    it('ok/the result is deeply frozen', () => {
      const { config } = parse()
      assert.ok(Object.isFrozen(config) && Object.isFrozen(config.outputs[0]?.destination))
      assert.throws(() => {
        ;(config.outputs as BotConfig['outputs'][number][]).push(config.outputs[0]!)
      }, TypeError)
    })

    it('ok/token forms: value, absolute path, ../ path', () => {
      const token = (t: string) =>
        parse((d) => (d.onboarding = { join_method: 'token', token: t })).config.onboarding
      assert.deepEqual(token('abc123'), { joinMethod: 'token', token: { kind: 'value', value: 'abc123' } })
      assert.deepEqual(token('/etc/t'), { joinMethod: 'token', token: { kind: 'file', path: '/etc/t' } })
      assert.deepEqual(token('../t'), { joinMethod: 'token', token: { kind: 'file', path: '/srv/t' } })
    })

    it('ok/iam join, memory storage, https and loopback forms', () => {
      const { config } = parse((d) => {
        d.onboarding = { join_method: 'iam', token: 'ci-iam' }
        d.storage = { type: 'memory' }
        d.auth_server = 'https://auth.example.com/base/'
      })
      assert.deepEqual(config.onboarding, { joinMethod: 'iam', tokenName: 'ci-iam' })
      assert.equal(config.authServer, 'https://auth.example.com/base')
      for (const url of ['http://localhost:3025', 'http://[::1]:3025', 'http://127.1.2.3']) {
        assert.doesNotThrow(() => parse((d) => (d.auth_server = url)))
      }
    })

    it('ok/every output type, with overrides and derived names', () => {
      const { config, warnings } = parse((d) => {
        d.outputs = [
          {
            type: 'database',
            service: 'pg',
            database: 'app',
            username: 'alice',
            format: 'tls',
            destination: dir('db'),
          },
          k8s(secret('team/kube'), { disable_exec_plugin: true }),
          k8s(dir('/opt/kube')),
          {
            type: 'application',
            app_name: 'grafana',
            specific_tls_naming: true,
            destination: { type: 'memory' },
          },
          {
            type: 'ssh_host',
            principals: ['host.example.com'],
            credential_ttl: '2h',
            destination: dir('host'),
          },
        ]
      })
      assert.deepEqual(warnings, [])
      assert.deepEqual(
        config.outputs.map((o) => o.name),
        ['db', 'team-kube', 'kube', 'application-3', 'host'],
      )
      const [db, kube] = config.outputs
      assert.ok(
        db?.type === 'database' && db.service === 'pg' && db.format === 'tls' && db.username === 'alice',
      )
      assert.ok(kube?.type === 'kubernetes' && kube.disableExecPlugin && kube.kubernetesCluster === 'prod')
      assert.deepEqual(config.outputs[4]?.lifetime, { ttlMs: 7_200_000, renewalIntervalMs: 1_200_000 })
      assert.deepEqual(config.outputs[1]?.destination, {
        type: 'aws_secrets_manager',
        name: 'team/kube',
        readers: [],
      })
    })

    it('ok/JSON text with format json', () => {
      const { config } = parseBotConfig(JSON.stringify(base()), { baseDir: BASE_DIR, format: 'json' })
      assert.equal(config.outputs[0]?.name, 'ssh')
    })
  })

  describe('warnings', () => {
    it('ok/credential_ttl shorter than renewal_interval warns, except in oneshot mode', () => {
      const { warnings } = parse((d) => Object.assign(d, { credential_ttl: '10m', renewal_interval: '20m' }))
      assert.deepEqual(warnings, [
        'credential_ttl (10m0s) is shorter than renewal_interval (20m0s): credentials will expire before they are renewed',
      ])
      const oneshot = parse((d) => Object.assign(d, { credential_ttl: '10m', oneshot: true }))
      assert.deepEqual(oneshot.warnings, [])
    })

    it('ok/credential_ttl above 24h warns', () => {
      const { warnings } = parse((d) => (d.credential_ttl = '48h'))
      assert.deepEqual(warnings, [
        'credential_ttl 48h0m0s is above the server maximum of 24h and will likely be reduced',
      ])
    })

    it('ok/an output override is checked on its own, prefixed with the output', () => {
      const { warnings } = parse(
        (d) => (d.outputs[0] = { type: 'identity', credential_ttl: '5m', destination: dir('x') }),
      )
      assert.equal(warnings.length, 1)
      assert.match(warnings[0] ?? '', /^outputs\[0\]: credential_ttl \(5m0s\) is shorter/)
    })

    it('ok/no outputs, and memory storage with a token join, warn', () => {
      const { warnings } = parse((d) => Object.assign(d, { outputs: [], storage: { type: 'memory' } }))
      assert.equal(warnings.length, 2)
      assert.match(warnings.join('\n'), /no outputs/)
      assert.match(warnings.join('\n'), /single-use/)
    })
  })

  describe('document-level errors', () => {
    const fails = (text: string, message: RegExp) =>
      assert.throws(
        () => parseBotConfig(text, { baseDir: BASE_DIR, source: 'bot.yaml' }),
        (err: unknown) =>
          err instanceof InvalidConfigError && err.field === 'bot.yaml' && message.test(err.message),
      )
    it('fail/YAML syntax error names the line', () => fails('version: v1\n  bad: [', /invalid YAML at line/))
    it('fail/duplicate key', () => fails('version: v1\nversion: v1\n', /invalid YAML/))
    it('fail/not a mapping', () => fails('- a\n- b\n', /expected a mapping/))
    it('fail/empty text', () => fails('', /expected a mapping/))
    it('fail/too large', () => fails(`# ${'x'.repeat(256 * 1024)}`, /larger than 256 KiB/))
    it('fail/relative baseDir is a programmer error', () => {
      assert.throws(() => parseBotConfig('version: v1', { baseDir: 'rel' }), TypeError)
    })
  })

  describe('examples/bot.yaml', () => {
    it('ok/the demo configuration parses without warnings', () => {
      const text = readFileSync(resolve(REPO_ROOT, 'examples/bot.yaml'), 'utf8')
      const { config, warnings } = parseBotConfig(text, { baseDir: REPO_ROOT, source: 'examples/bot.yaml' })
      assert.deepEqual(warnings, [])
      assert.equal(config.authServer, 'http://127.0.0.1:3025')
      assert.deepEqual(config.onboarding, {
        joinMethod: 'token',
        token: { kind: 'file', path: resolve(REPO_ROOT, '.credbroker/bot-token') },
      })
      assert.deepEqual(config.storage, {
        type: 'directory',
        path: resolve(REPO_ROOT, '.credbroker/bot'),
        symlinks: 'try-secure',
      })
      assert.equal(config.outputs.length, 1)
      const [ssh] = config.outputs
      assert.equal(ssh?.type, 'identity')
      assert.equal(ssh?.name, 'ssh')
      assert.deepEqual(ssh?.roles, ['access'])
      assert.deepEqual(ssh?.destination, {
        type: 'directory',
        path: resolve(REPO_ROOT, '.credbroker/out/ssh'),
        symlinks: 'try-secure',
      })
    })
  })
})

describe('bot storage on Secrets Manager', () => {
  it('ok/a token-joined bot may keep its identity in a secret of its own', () => {
    const { config } = parse((doc) => {
      doc.storage = { type: 'aws_secrets_manager', name: 'credbroker/bots/ci', region: 'eu-west-1' }
    })
    assert.deepEqual(config.storage, {
      type: 'aws_secrets_manager',
      name: 'credbroker/bots/ci',
      region: 'eu-west-1',
      readers: [],
    })
  })

  it('fail/an output secret that is the storage secret is refused', () => {
    assert.throws(
      () =>
        parse((doc) => {
          doc.storage = { type: 'aws_secrets_manager', name: 'credbroker/bots/ci' }
          doc.outputs = [id(secret('credbroker/bots/ci'))]
        }),
      (err: unknown) => {
        assert.ok(err instanceof InvalidConfigError)
        assert.equal(err.field, 'outputs[0].destination.name')
        assert.match(err.message, /is also the bot's storage/)
        return true
      },
    )
  })
})
