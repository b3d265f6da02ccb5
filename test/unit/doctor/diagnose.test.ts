/**
 * `credbroker doctor` against each symptom of the troubleshooting guide, each reproduced for
 * real: a copied storage renewing second (generation-mismatch lock), an identity left to expire,
 * an SSH login the roles do not grant, a database the output's roles cannot see, a kubernetes
 * output in exec-plugin mode on a non-directory destination, and a service advertising another
 * address than the configured one. Each asserts the finding's code and what it tells the user.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, beforeEach, describe, it } from 'node:test'
import { MemoryDestination } from '../../../lib/adapters/memory/destination.ts'
import { addJoinToken } from '../../../lib/auth/bots.ts'
import { AuthClient } from '../../../lib/bot/auth-client.ts'
import { type BotDeps, runCycle } from '../../../lib/bot/bot.ts'
import { type BotConfig, validateBotConfig } from '../../../lib/bot/config.ts'
import { loadStoredIdentity } from '../../../lib/bot/renewal-storage.ts'
import { main } from '../../../lib/cli/main.ts'
import { type DoctorDeps, diagnose, type Finding } from '../../../lib/doctor/diagnose.ts'
import { explainDatabase } from '../../../lib/doctor/explain-database.ts'
import { silentLogger } from '../../../lib/log.ts'
import type { Destination } from '../../../lib/ports/destination.ts'
import { type AuthHarness, authHarness } from '../../helpers/auth-harness.ts'

const AUTH_URL = 'http://127.0.0.1:3025'
const HOUR = 3600_000

let h: AuthHarness

beforeEach(async () => {
  h = await authHarness()
})

function config(token: string, outputs: object[]): BotConfig {
  return validateBotConfig(
    {
      version: 'v1',
      auth_server: AUTH_URL,
      onboarding: { join_method: 'token', token },
      storage: { type: 'memory' },
      outputs: outputs.map((o) => ({ destination: { type: 'memory' }, ...o })),
    },
    { baseDir: '/' },
  ).config
}

/** The harness's app behind the configured URL (the client signs what it addresses). */
function client(): AuthClient {
  return new AuthClient({ baseUrl: AUTH_URL, fetch: h.fetch, clock: h.clock })
}

interface Bot {
  config: BotConfig
  storage: MemoryDestination
  outputs: Map<string, MemoryDestination>
}

function newBot(cfg: BotConfig, storage = new MemoryDestination({ label: 'storage' })): Bot {
  return {
    config: cfg,
    storage,
    outputs: new Map(cfg.outputs.map((o) => [o.name, new MemoryDestination({ label: o.name })])),
  }
}

async function cycle(bot: Bot) {
  const deps: BotDeps = {
    config: bot.config,
    client: client(),
    storage: bot.storage,
    destinations: bot.outputs,
    clock: h.clock,
    log: silentLogger,
  }
  return runCycle(deps)
}

function doctorDeps(bot: Bot, extra: Partial<DoctorDeps> = {}): DoctorDeps {
  return {
    config: bot.config,
    client: client(),
    clock: h.clock,
    storedIdentity: async () => {
      const stored = await loadStoredIdentity(bot.storage)
      return (
        stored && {
          identity: stored.identity,
          notAfter: stored.identity.notAfter,
          botInstanceId: stored.identity.botInstanceId,
          generation: stored.identity.generation,
        }
      )
    },
    destination: (o) => bot.outputs.get(o.name) as Destination,
    keepConfiguredAddress: true,
    ...extra,
  }
}

const only = (findings: Finding[], code: Finding['code']) => {
  const found = findings.filter((f) => f.code === code)
  assert.equal(found.length, 1, `one ${code} in ${JSON.stringify(findings.map((f) => f.code))}`)
  return found[0] as Finding
}

async function copyOf(storage: MemoryDestination): Promise<MemoryDestination> {
  const copy = new MemoryDestination({ label: 'copy' })
  await copy.write(await storage.readAll())
  return copy
}

describe('diagnose', () => {
  it('ok/a healthy bot: no finding', async () => {
    const { token } = await addJoinToken(h.service.deps, 'example', 24 * HOUR)
    const bot = newBot(config(token, [{ type: 'identity', name: 'ssh', roles: ['access'] }]))
    await cycle(bot)
    assert.deepEqual(await diagnose(doctorDeps(bot, { login: 'alice' })), [])
  })

  it('fail/generation mismatch: the copy that renews second locks the instance; doctor says how to recover', async () => {
    const { token } = await addJoinToken(h.service.deps, 'example', 24 * HOUR)
    const bot = newBot(config(token, []))
    await cycle(bot)
    const thief = newBot(bot.config, await copyOf(bot.storage))
    h.clock.advance(20 * 60_000)
    await cycle(bot) // generation 2
    h.clock.advance(60_000)
    await assert.rejects(cycle(thief)) // presents generation 1: locked
    const finding = only(await diagnose(doctorDeps(bot)), 'generation_mismatch_lock')
    assert.match(
      finding.summary,
      /bot instance example\/[0-9a-f-]+ is locked after a certificate generation mismatch/,
    )
    assert.ok(finding.details.some((d) => /has been locked due to a certificate generation mismatch/.test(d)))
    assert.ok(finding.fix.some((f) => f.includes('credbroker locks rm')))
    assert.ok(finding.fix.some((f) => f.includes('credbroker bots instances add example')))
  })

  it('fail/expired identity: the guide’s line with expiry and current time, and the recovery', async () => {
    const { token } = await addJoinToken(h.service.deps, 'example', 24 * HOUR)
    const bot = newBot(config(token, []))
    await cycle(bot)
    h.clock.advance(30 * 24 * HOUR)
    const finding = only(await diagnose(doctorDeps(bot)), 'identity_expired')
    assert.equal(finding.summary, 'Identity has expired. The renewal is likely to fail.')
    assert.match(finding.details[0] ?? '', /^expires: \S+Z, current time: \S+Z$/)
    assert.ok(finding.fix[0]?.includes('credbroker bots instances add example'))
  })

  it('fail/SSH login not granted: shows the principals the certificate carries', async () => {
    const { token } = await addJoinToken(h.service.deps, 'example', 24 * HOUR)
    const bot = newBot(config(token, [{ type: 'identity', name: 'ssh', roles: ['access'] }]))
    await cycle(bot)
    const finding = only(await diagnose(doctorDeps(bot, { login: 'bob' })), 'ssh_principal_not_granted')
    assert.match(finding.summary, /does not allow login bob/)
    assert.ok(finding.details.includes('principals: alice, credbroker'), finding.details.join(' | '))
  })

  it('fail/database not found: the roles that cannot see it and the rule they miss', async () => {
    await h.service.deps.resources.create({
      kind: 'role',
      version: 'v1',
      metadata: { name: 'db-no-rules', labels: {} },
      spec: { allow: { db_labels: { '*': '*' }, db_users: ['alice'], db_names: ['example'] } },
    })
    const b = await h.service.deps.resources.get('bot', 'example')
    await h.service.deps.resources.update({
      ...b,
      spec: { ...b.spec, roles: [...b.spec.roles, 'db-no-rules'] },
    })
    const { token } = await addJoinToken(h.service.deps, 'example', 24 * HOUR)
    const bot = newBot(
      config(token, [
        {
          type: 'database',
          name: 'db',
          roles: ['db-no-rules'],
          service: 'example',
          username: 'alice',
          database: 'example',
        },
      ]),
    )
    const run = await cycle(bot)
    const failed = run.outputs[0]
    assert.ok(failed && !failed.ok)
    assert.equal(failed.message, 'database "example" not found')
    const resources = h.service.deps.resources
    const findings = await diagnose(
      doctorDeps(bot, { explainDatabase: (service, roles) => explainDatabase(resources, service, roles) }),
    )
    const finding = only(findings, 'database_not_found')
    assert.match(finding.summary, /database "example" not found for roles db-no-rules/)
    assert.ok(
      finding.details.includes('role db-no-rules: db_labels match; no read/list rule on db_server or db'),
      finding.details.join(' | '),
    )
    assert.ok(finding.fix.some((f) => f.includes('resources: [db_server, db], verbs: [read, list]')))
  })

  it('fail/the service advertises another address than the configured one', async () => {
    const { token } = await addJoinToken(h.service.deps, 'example', 24 * HOUR)
    const bot = newBot(config(token, []))
    await cycle(bot)
    const finding = only(
      await diagnose(doctorDeps(bot, { keepConfiguredAddress: false })),
      'auth_address_mismatch',
    )
    assert.match(
      finding.summary,
      /advertises http:\/\/auth\.test, but the config uses http:\/\/127\.0\.0\.1:3025/,
    )
    assert.ok(finding.fix.some((f) => f.includes('CREDBROKER_USE_PROXY_ADDR=yes')))
    // CREDBROKER_USE_PROXY_ADDR=yes: the configured address is kept on purpose, nothing to report.
    assert.deepEqual(await diagnose(doctorDeps(bot, { keepConfiguredAddress: true })), [])
  })

  it('fail/the auth service cannot be reached', async () => {
    const { token } = await addJoinToken(h.service.deps, 'example', 24 * HOUR)
    const bot = newBot(config(token, []))
    const unreachable = new AuthClient({
      baseUrl: AUTH_URL,
      fetch: async () => {
        throw new TypeError('fetch failed: ECONNREFUSED')
      },
      clock: h.clock,
    })
    const findings = await diagnose(doctorDeps(bot, { client: unreachable }))
    only(findings, 'auth_unreachable')
    only(findings, 'not_joined')
  })
})

describe('credbroker doctor (CLI)', () => {
  const dir = mkdtempSync(join(tmpdir(), 'credbroker-doctor-'))
  after(() => rmSync(dir, { recursive: true, force: true }))

  async function doctor(yaml: string, extra: string[] = []) {
    writeFileSync(join(dir, 'bot.yaml'), yaml)
    const out: string[] = []
    const code = await main(['doctor', '-c', 'bot.yaml', ...extra], {
      env: { CREDBROKER_STORE: 'memory', CREDBROKER_LOG_LEVEL: 'error' },
      cwd: dir,
      stdout: (t) => out.push(t),
      stderr: (t) => out.push(t),
    })
    return { code, out: out.join('\n') }
  }

  it('fail/a kubernetes output in exec plugin mode on a non-directory destination', async () => {
    const { code, out } = await doctor(
      [
        'version: v1',
        'auth_server: http://127.0.0.1:1',
        'onboarding: { join_method: token, token: abc }',
        'storage: { type: memory }',
        'outputs:',
        '  - type: kubernetes',
        '    kubernetes_cluster: example-k8s-cluster',
        '    destination: { type: memory }',
      ].join('\n'),
      ['--json'],
    )
    assert.equal(code, 1)
    const report = JSON.parse(out) as { ok: boolean; findings: Finding[] }
    assert.equal(report.ok, false)
    const finding = report.findings[0]
    assert.equal(finding?.code, 'kube_exec_plugin_destination')
    assert.match(finding?.summary ?? '', /must be a directory in exec plugin mode/)
    assert.ok(finding?.fix.some((f) => f.includes('disable_exec_plugin: true')))
  })

  it('fail/nothing listening: text output names the problem and exits 1', async () => {
    const { code, out } = await doctor(
      [
        'version: v1',
        'auth_server: http://127.0.0.1:1',
        'onboarding: { join_method: iam, token: lambda }',
        'storage: { type: memory }',
      ].join('\n'),
    )
    assert.equal(code, 1)
    assert.match(out, /✖ \[auth_unreachable\] the auth service at http:\/\/127\.0\.0\.1:1 cannot be reached/)
    assert.match(out, /fix:\n {4}1\. /)
  })
})
