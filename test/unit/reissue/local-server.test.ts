/**
 * The daemon side of the reissue endpoint: the `reissue:` config block, the 0600 token file, and
 * the server on 127.0.0.1 over a bot whose daemon cycles go through the same coordinator.
 */
import assert from 'node:assert/strict'
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, describe, it } from 'node:test'
import type { CycleGate } from '../../../lib/bot/bot.ts'
import { validateBotConfig } from '../../../lib/bot/config.ts'
import { runDaemon } from '../../../lib/bot/daemon.ts'
import { RunCoordinator } from '../../../lib/reissue/coordinator.ts'
import { startReissueServer } from '../../../lib/reissue/local-server.ts'
import { readReissueToken } from '../../../lib/reissue/token-file.ts'
import { authHarness } from '../../helpers/auth-harness.ts'
import { scheduledBot } from '../../helpers/scheduled-bot.ts'

const dir = mkdtempSync(join(tmpdir(), 'credbroker-reissue-'))
after(() => rmSync(dir, { recursive: true, force: true }))
const TOKEN = 'local-reissue-token-0123456789'

function tokenFile(name: string, mode: number, content = TOKEN): string {
  const path = join(dir, name)
  writeFileSync(path, `${content}\n`)
  chmodSync(path, mode)
  return path
}

const base = {
  version: 'v1',
  auth_server: 'http://127.0.0.1:3025',
  onboarding: { join_method: 'token', token: 'secret' },
  storage: { type: 'memory' },
  outputs: [],
}

describe('config: reissue block', () => {
  it('ok/listen and token_file are parsed, the path resolved', () => {
    const { config } = validateBotConfig(
      { ...base, reissue: { listen: '127.0.0.1:3026', token_file: './reissue.token' } },
      { baseDir: '/srv/bot' },
    )
    assert.deepEqual(config.reissue, { host: '127.0.0.1', port: 3026, tokenFile: '/srv/bot/reissue.token' })
    const v6 = validateBotConfig({ ...base, reissue: { listen: '[::1]:3026' } }, { baseDir: '/' }).config
    assert.deepEqual(v6.reissue, { host: '::1', port: 3026 })
    assert.equal(validateBotConfig(base, { baseDir: '/' }).config.reissue, undefined)
  })

  for (const listen of ['0.0.0.0:3026', '10.0.0.1:3026', '127.0.0.1', '127.0.0.1:70000']) {
    it(`fail/listen ${listen} is refused`, () => {
      assert.throws(
        () => validateBotConfig({ ...base, reissue: { listen } }, { baseDir: '/' }),
        (err: Error) => {
          assert.equal((err as { code?: string }).code, 'ERR_INVALID_CONFIG')
          assert.match(err.message, /reissue\.listen/)
          return true
        },
      )
    })
  }
})

describe('token file', () => {
  it('ok/a 0600 file', () => {
    assert.equal(readReissueToken(tokenFile('ok.token', 0o600)), TOKEN)
  })

  for (const mode of [0o644, 0o640, 0o604]) {
    it(`fail/mode ${mode.toString(8)} is refused with a config error`, () => {
      const path = tokenFile(`loose-${mode.toString(8)}.token`, mode)
      assert.throws(
        () => readReissueToken(path),
        (err: Error) => {
          assert.equal((err as { code?: string }).code, 'ERR_INVALID_CONFIG')
          assert.match(err.message, /reissue\.token_file: .* must be 0600/)
          return true
        },
      )
    })
  }

  it('fail/missing or too short', () => {
    assert.throws(() => readReissueToken(join(dir, 'absent')), { code: 'ERR_INVALID_CONFIG' })
    assert.throws(() => readReissueToken(tokenFile('short.token', 0o600, 'abc')), {
      code: 'ERR_INVALID_CONFIG',
    })
  })
})

describe('local reissue server on 127.0.0.1', () => {
  it('ok/token callers reissue over HTTP; a reissue during the daemon cycle issues once per output', async () => {
    const h = await authHarness()
    const bot = await scheduledBot(h, { outputs: { a: {}, b: {} } })
    const runs = new RunCoordinator()
    const path = tokenFile('server.token', 0o600)
    const server = await startReissueServer(
      { host: '127.0.0.1', port: 0, tokenFile: path },
      { bot: bot.deps, schedule: bot.schedule, runs },
    )
    try {
      const url = `${server.url}/v1/reissue`
      const headers = { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }
      const denied = await fetch(url, { method: 'POST', body: '{}' })
      assert.equal(denied.status, 401)
      assert.equal(bot.destinations.get('a')?.written.length, 0)

      // The daemon's cycle is held until the HTTP reissue has joined it (over a real socket the
      // in-memory cycle would otherwise finish first).
      let release = () => {}
      const held = new Promise<void>((resolve) => {
        release = resolve
      })
      const gate: CycleGate = {
        scheduled: (outputs, body) =>
          runs.scheduled(outputs, async () => {
            await held
            return body()
          }),
      }
      const controller = new AbortController()
      const daemon = runDaemon(bot.deps, {
        wake: () => new Promise(() => {}),
        signal: controller.signal,
        sleep: async () => controller.abort(),
        random: () => 0.5,
        gate,
        onCycle: server.observe,
      })
      for (let i = 0; i < 100 && !runs.busy; i++) await Promise.resolve()
      assert.ok(runs.busy)
      const response = fetch(url, { method: 'POST', headers, body: '{}' })
      // Bounded: each turn yields to the event loop once; no timers.
      for (let i = 0; i < 10_000 && runs.joined === 0; i++) await new Promise((r) => setImmediate(r))
      assert.equal(runs.joined, 1, 'the reissue joined the scheduled cycle')
      release()
      const res = await response
      await daemon
      assert.equal(res.status, 200)
      assert.equal(runs.started, 1)
      assert.deepEqual(
        [...bot.destinations.values()].map((d) => d.written.length),
        [1, 1],
      )
      const status = (await (await fetch(`${server.url}/v1/status`, { headers })).json()) as {
        identity_not_after?: string
        outputs: Array<{ serial?: string }>
      }
      assert.ok(status.identity_not_after)
      assert.ok(status.outputs.every((o) => o.serial))
    } finally {
      await server.close()
    }
  })

  it('ok/the status shows the daemon’s next run while it sleeps, on the injected clock', async () => {
    const h = await authHarness()
    const bot = await scheduledBot(h, { outputs: { a: {} } })
    const runs = new RunCoordinator()
    const path = tokenFile('next-run.token', 0o600)
    const server = await startReissueServer(
      { host: '127.0.0.1', port: 0, tokenFile: path },
      { bot: bot.deps, schedule: bot.schedule, runs },
    )
    const status = async () => {
      const res = await fetch(`${server.url}/v1/status`, { headers: { authorization: `Bearer ${TOKEN}` } })
      assert.equal(res.status, 200)
      return (await res.json()) as { next_run?: string; outputs: Array<{ version_id?: string }> }
    }
    try {
      assert.equal((await status()).next_run, undefined, 'no daemon, no next run')
      const controller = new AbortController()
      let asleep = (_ms: number) => {}
      const sleeping = new Promise<number>((resolve) => {
        asleep = resolve
      })
      const daemon = runDaemon(bot.deps, {
        wake: () => new Promise(() => {}),
        signal: controller.signal,
        // Sleeps until aborted: the clock never moves while the status is read.
        sleep: (ms, _wake, signal) =>
          new Promise<void>((resolve) => {
            asleep(ms)
            signal.addEventListener('abort', () => resolve(), { once: true })
          }),
        random: () => 0.5,
        gate: runs,
        onCycle: server.observe,
      })
      const sleptMs = await sleeping
      const expected = new Date(h.clock.now().getTime() + sleptMs).toISOString()
      const during = await status()
      assert.equal(during.next_run, expected)
      assert.ok(during.outputs[0]?.version_id, 'the status carries the version written')
      h.clock.advance(60_000)
      assert.equal((await status()).next_run, expected, 'the plan does not move with the clock')
      controller.abort()
      await daemon
      assert.equal((await status()).next_run, undefined, 'a stopped daemon plans nothing')
    } finally {
      await server.close()
    }
  })

  it('fail/a loose token file stops the server from starting', async () => {
    const h = await authHarness()
    const bot = await scheduledBot(h, { outputs: { a: {} } })
    const path = tokenFile('loose.token', 0o644)
    await assert.rejects(
      startReissueServer(
        { host: '127.0.0.1', port: 0, tokenFile: path },
        { bot: bot.deps, schedule: bot.schedule, runs: new RunCoordinator() },
      ),
      { code: 'ERR_INVALID_CONFIG' },
    )
  })
})
