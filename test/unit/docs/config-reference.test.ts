/**
 * docs/CONFIGURATION.md cannot drift from the code: it must equal what
 * `scripts/gen-config-reference.ts` renders now, every bot configuration field must carry a
 * description, and every environment variable a loader reads must be in the table it exports
 * (the table the reference is rendered from).
 */
import assert from 'node:assert/strict'
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import { describe, it } from 'node:test'
import { DEPLOY_ENV, loadInfraConfig } from '../../../infra/config.ts'
import type { Env, EnvVariable } from '../../../lib/config/env.ts'
import { loadConfig, SERVICE_ENV } from '../../../lib/config/load-config.ts'
import { AUTH_LAMBDA_ENV, loadAuthLambdaConfig } from '../../../lib/serverless/auth-config.ts'
import { loadReissueLambdaConfig, REISSUE_LAMBDA_ENV } from '../../../lib/serverless/reissue-config.ts'
import { loadRotateLambdaConfig, ROTATE_LAMBDA_ENV } from '../../../lib/serverless/rotate-config.ts'
import {
  botConfigJsonSchema,
  CONFIG_REFERENCE_PATH,
  type JsonSchema,
  renderConfigReference,
} from '../../../scripts/gen-config-reference.ts'

const ROOT = join(import.meta.dirname, '..', '..', '..')

/** Runs `load` on `env` and returns the names of every variable it looked at. */
function variablesRead(env: Record<string, string>, load: (env: Env) => unknown): Set<string> {
  const read = new Set<string>()
  const recording = new Proxy(env, {
    get(target, name) {
      if (typeof name === 'string') read.add(name)
      return Reflect.get(target, name)
    },
  })
  load(recording)
  return read
}

/** Fails naming each variable the loader read that none of `tables` lists. */
function assertListed(read: Set<string>, tables: readonly (readonly EnvVariable[])[], loader: string): void {
  const listed = new Set(tables.flat().map((v) => v.name))
  const missing = [...read].filter((name) => !listed.has(name)).sort()
  assert.deepEqual(
    missing,
    [],
    `${loader} reads ${missing.join(', ')}, which its exported table does not list: add them, then run npm run docs:config`,
  )
}

/** Every `properties` entry in the schema, with its dotted path. */
function fields(schema: JsonSchema, prefix = ''): { path: string; field: JsonSchema }[] {
  const found: { path: string; field: JsonSchema }[] = []
  for (const [key, field] of Object.entries(schema.properties ?? {})) {
    found.push({ path: `${prefix}${key}`, field })
    const nested = field.items ?? field
    for (const variant of [nested, ...(nested.oneOf ?? nested.anyOf ?? [])]) {
      found.push(...fields(variant, `${prefix}${key}${field.items ? '[]' : ''}.`))
    }
  }
  return found
}

/** The fields that choose a variant (`type: database`); the variant's description covers them. */
const DISCRIMINATOR = /(^|\.)(type|join_method)$/

const IAM_BOT = [
  'version: v1',
  'auth_server: https://auth.example.com',
  'onboarding: {join_method: iam, token: lambda-bot}',
  'storage: {type: memory}',
  'outputs: []',
].join('\n')

const AUTH_ENV = {
  CREDBROKER_STORE: 'dynamodb',
  CREDBROKER_DYNAMODB_TABLE: 'credbroker-prod-state',
  AWS_REGION: 'eu-west-1',
  CREDBROKER_KMS_KEYS: JSON.stringify({ 'user-tls': 'arn:aws:kms:eu-west-1:111111111111:key/abc' }),
}

describe('docs/CONFIGURATION.md', () => {
  it('ok/the committed reference is what the generator renders from the code', () => {
    const committed = readFileSync(join(ROOT, CONFIG_REFERENCE_PATH), 'utf8')
    const rendered = renderConfigReference()
    if (committed === rendered) return
    const [was, now] = [committed.split('\n'), rendered.split('\n')]
    const line = now.findIndex((text, i) => text !== was[i])
    assert.fail(
      `${CONFIG_REFERENCE_PATH} is stale: run npm run docs:config and commit the result ` +
        `(first difference at line ${line + 1}: ${JSON.stringify(now[line] ?? '(end of file)')})`,
    )
  })

  it('ok/the reference names every bot configuration field and every variable', () => {
    const text = renderConfigReference()
    // A union rendered once is referred to by the others (`outputs[].destination` → `storage`).
    const aliases = [...text.matchAll(/#+ `([^`]+)`\n\n(?:[^\n]+\n\n)?Same types and fields as `([^`]+)`/g)]
    for (const { path } of fields(botConfigJsonSchema())) {
      if (DISCRIMINATOR.test(path)) continue // named in the headings: `type: database`
      const alias = aliases.find(([, from]) => path.startsWith(`${from}.`))
      const named = alias ? `${alias[2]}${path.slice(alias[1]?.length)}` : path
      assert.ok(text.includes(`\`${named}\``), `the reference names ${path}`)
    }
    for (const v of [
      SERVICE_ENV,
      AUTH_LAMBDA_ENV,
      ROTATE_LAMBDA_ENV,
      REISSUE_LAMBDA_ENV,
      DEPLOY_ENV,
    ].flat()) {
      assert.ok(text.includes(`| \`${v.name}\` |`), `the reference lists ${v.name}`)
    }
  })

  it('fail/a bot configuration field without a description', () => {
    const undocumented = fields(botConfigJsonSchema())
      .filter(({ path, field }) => field.description === undefined && !DISCRIMINATOR.test(path))
      .map(({ path }) => path)
    assert.deepEqual(undocumented, [], 'add .describe(…) to these fields in lib/bot/config-schema.ts')
  })
})

describe('environment tables', () => {
  it('ok/loadConfig reads only variables SERVICE_ENV lists, in every store mode', () => {
    const modes: Record<string, string>[] = [{}, { CREDBROKER_STORE: 'memory' }, AUTH_ENV]
    for (const env of modes) {
      assertListed(
        variablesRead(env, (e) => loadConfig(e, '/srv')),
        [SERVICE_ENV],
        'loadConfig',
      )
    }
  })

  it('ok/the auth function reads only variables its tables list', () => {
    const read = variablesRead(AUTH_ENV, (e) => loadAuthLambdaConfig(e, '/srv'))
    assertListed(read, [SERVICE_ENV, AUTH_LAMBDA_ENV], 'loadAuthLambdaConfig')
  })

  it('ok/the rotate and reissue functions read only variables their tables list', () => {
    const inline = { AWS_REGION: 'eu-west-1', CREDBROKER_BOT_CONFIG: IAM_BOT }
    assertListed(
      variablesRead(inline, (e) => loadRotateLambdaConfig(e, '/srv')),
      [ROTATE_LAMBDA_ENV],
      'loadRotateLambdaConfig',
    )
    const fromFile = { AWS_REGION: 'eu-west-1', CREDBROKER_BOT_CONFIG_FILE: 'examples/deploy/bot.yaml' }
    assertListed(
      variablesRead(fromFile, (e) => loadRotateLambdaConfig(e, ROOT)),
      [ROTATE_LAMBDA_ENV],
      'loadRotateLambdaConfig',
    )
    const reissue = { ...inline, CREDBROKER_REISSUE_ALLOWED_ARNS: 'arn:aws:iam::111111111111:role/ops' }
    assertListed(
      variablesRead(reissue, (e) => loadReissueLambdaConfig(e, '/srv')),
      [ROTATE_LAMBDA_ENV, REISSUE_LAMBDA_ENV],
      'loadReissueLambdaConfig',
    )
  })

  it('ok/sst deploy reads only variables DEPLOY_ENV lists', () => {
    const env = { CREDBROKER_DEPLOY_BOOTSTRAP: 'examples/deploy/bootstrap.yaml' }
    const read = variablesRead(env, (e) => loadInfraConfig({ app: 'credbroker', stage: 'dev', env: e }))
    assertListed(read, [DEPLOY_ENV], 'loadInfraConfig')
  })

  it('ok/each table lists a variable once', () => {
    for (const table of [SERVICE_ENV, AUTH_LAMBDA_ENV, ROTATE_LAMBDA_ENV, REISSUE_LAMBDA_ENV, DEPLOY_ENV]) {
      const names = table.map((v) => v.name)
      assert.equal(new Set(names).size, names.length, names.join(', '))
    }
  })
})
