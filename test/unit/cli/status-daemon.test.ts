/**
 * `credbroker status -c <config>` for a bot whose config has `reissue:`: it asks the running
 * daemon's reissue endpoint (the real app, lib/reissue/app.ts, served on 127.0.0.1 with a bearer
 * token from a 0600 file) and prints each output's last success, expiry and last error.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { after, before, describe, it } from 'node:test'
import { serve } from '@hono/node-server'
import { OutputSchedule } from '../../../lib/bot/output-schedule.ts'
import { main } from '../../../lib/cli/main.ts'
import { ManualClock } from '../../../lib/clock.ts'
import { silentLogger } from '../../../lib/log.ts'
import { createReissueApp } from '../../../lib/reissue/app.ts'
import { localAuthorizer } from '../../../lib/reissue/authorize.ts'
import { RunCoordinator } from '../../../lib/reissue/coordinator.ts'
import { freePort } from '../../helpers/peer-process.ts'

const TOKEN = 'r'.repeat(32)
const NOW = Date.UTC(2026, 10, 22, 12)

describe('credbroker status: from the running daemon', () => {
  let dir: string
  let server: ReturnType<typeof serve>
  let config: string
  const clock = new ManualClock(NOW)

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-status-'))
    const port = await freePort()
    const schedule = new OutputSchedule()
    schedule.recordSuccess('ssh', {
      at: new Date(NOW - 10 * 60_000),
      serial: '01',
      notAfter: new Date(NOW + 50 * 60_000).toISOString(),
      intervalMs: 20 * 60_000,
    })
    schedule.recordFailure('web', new Date(NOW - 60_000), {
      code: 'ERR_ACCESS_DENIED',
      message: 'role x denied',
    })
    const app = createReissueApp({
      outputs: ['ssh', 'web'],
      schedule,
      ping: async () => ({}),
      identityNotAfter: () => new Date(NOW + 3600_000),
      runs: new RunCoordinator(),
      authorize: localAuthorizer({ token: TOKEN }),
      clock,
      log: silentLogger,
      reissue: async () => {
        throw new Error('not in this test')
      },
    })
    server = serve({ fetch: app.fetch, hostname: '127.0.0.1', port })
    await new Promise<void>((resolve) => server.once('listening', () => resolve()))
    const tokenFile = join(dir, 'reissue-token')
    writeFileSync(tokenFile, `${TOKEN}\n`, { mode: 0o600 })
    config = join(dir, 'bot.yaml')
    const output = (name: string) =>
      `  - {type: identity, name: ${name}, roles: [access], destination: {type: directory, path: ${join(dir, name)}}}`
    writeFileSync(
      config,
      [
        'version: v1',
        'auth_server: http://127.0.0.1:9',
        `onboarding: {join_method: token, token: ${'a'.repeat(32)}}`,
        `storage: {type: directory, path: ${join(dir, 'storage')}}`,
        `reissue: {listen: "127.0.0.1:${port}", token_file: ${tokenFile}}`,
        'outputs:',
        output('ssh'),
        output('web'),
        '',
      ].join('\n'),
    )
  })
  after(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()))
    rmSync(dir, { recursive: true, force: true })
  })

  const run = async (...argv: string[]) => {
    const out: string[] = []
    const err: string[] = []
    const code = await main(argv, {
      env: {},
      cwd: dir,
      clock,
      stdout: (t) => out.push(t),
      stderr: (t) => err.push(t),
    })
    return { code, out: out.join('\n'), err }
  }

  it('ok/JSON: the daemon answered; per output issued, expiry and last error; the identity expiry', async () => {
    const res = await run('status', '-c', config, '--format', 'json')
    assert.equal(res.code, 0, res.err.join('\n'))
    assert.deepEqual(JSON.parse(res.out), {
      source: 'daemon',
      identity_not_after: '2026-11-22T13:00:00.000Z',
      outputs: [
        {
          output: 'ssh',
          destination: 'directory',
          issued_at: '2026-11-22T11:50:00.000Z',
          not_after: '2026-11-22T12:50:00.000Z',
          last_error: null,
        },
        {
          output: 'web',
          destination: 'directory',
          issued_at: null,
          not_after: null,
          last_error: 'ERR_ACCESS_DENIED: role x denied',
        },
      ],
    })
  })

  it('ok/text: human times relative to the injected clock', async () => {
    const res = await run('status', '-c', config)
    assert.equal(res.code, 0)
    assert.match(
      res.out,
      /^Bot identity expires: 2026-11-22 13:00 UTC \(in 1h\) {2}\(from the running daemon\)$/m,
    )
    assert.match(
      res.out,
      /^ssh\s+directory\s+2026-11-22 11:50 UTC \(10m ago\)\s+2026-11-22 12:50 UTC \(in 50m\)\s+-$/m,
    )
    assert.match(res.out, /^web\s+directory\s+-\s+-\s+ERR_ACCESS_DENIED: role x denied$/m)
  })

  it('fail/a daemon that refuses the token, or none at all: exit 1 naming the endpoint', async () => {
    writeFileSync(join(dir, 'reissue-token'), `${'x'.repeat(32)}\n`, { mode: 0o600 })
    const refused = await run('status', '-c', config)
    assert.equal(refused.code, 1)
    assert.match(
      refused.err[0] ?? '',
      /^error \[ERR_UPSTREAM_UNAVAILABLE\]: the bot's reissue endpoint http:\/\/127\.0\.0\.1:\d+\/v1\/status answered HTTP 401$/,
    )
    writeFileSync(join(dir, 'reissue-token'), `${TOKEN}\n`, { mode: 0o600 })
    const missing = await run('status')
    assert.equal(missing.code, 2)
    assert.equal(missing.err[0], 'error [ERR_BAD_REQUEST]: status needs -c <bot config file>')
  })
})
