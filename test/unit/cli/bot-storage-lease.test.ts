/**
 * `credbroker bot` on a storage another bot process holds: exit code 1 and the error line, before
 * any request to the auth service (whose address here answers nothing). The lease found stays as
 * it was. Real processes doing this end to end: test/e2e/bot-storage-lease.test.ts.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { DirectoryDestination } from '../../../lib/adapters/directory/destination.ts'
import { encodeLease, LEASE_ARTIFACT, type LeaseRecord } from '../../../lib/bot/lease-record.ts'
import { main } from '../../../lib/cli/main.ts'

const holder: LeaseRecord = {
  holder: 'f'.repeat(32),
  host: 'build-7',
  pid: 4242,
  mode: 'daemon',
  acquired_at: '2026-01-01T00:00:00.000Z',
  // Far ahead of the system clock the CLI runs on: held for the whole test, whatever the date.
  expires_at: '2999-01-01T00:00:00.000Z',
}

describe('credbroker bot: a storage in use by another bot process', () => {
  let dir: string
  let storageDir: string
  let config: string
  let err: string[]
  beforeEach(async () => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-cli-lease-'))
    storageDir = join(dir, 'storage')
    config = join(dir, 'bot.yaml')
    writeFileSync(
      config,
      [
        'version: v1',
        'auth_server: http://127.0.0.1:9', // discard port: nothing may be sent
        'onboarding:',
        '  join_method: token',
        `  token: ${'a'.repeat(32)}`,
        'storage:',
        '  type: directory',
        `  path: ${storageDir}`,
        'outputs: []',
        '',
      ].join('\n'),
    )
    await new DirectoryDestination({ path: storageDir }).write(
      new Map([[LEASE_ARTIFACT, encodeLease(holder)]]),
    )
    err = []
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('fail/--oneshot exits 1 with ERR_ALREADY_EXISTS and the holder, asking for a storage per bot', async () => {
    const code = await main(['bot', '-c', config, '--oneshot'], {
      env: { CREDBROKER_LOG_LEVEL: 'error' },
      cwd: dir,
      stdout: () => {},
      stderr: (t) => err.push(t),
    })

    assert.equal(code, 1, err.join('\n'))
    assert.deepEqual(err, [
      `error [ERR_ALREADY_EXISTS]: the bot storage directory ${storageDir} is in use by another bot process ` +
        '(host build-7, pid 4242, since 2026-01-01T00:00:00.000Z, until 2999-01-01T00:00:00.000Z); ' +
        'give each bot its own storage',
    ])
    const stored = await new DirectoryDestination({ path: storageDir }).readAll()
    assert.deepEqual([...stored.keys()], [LEASE_ARTIFACT])
    assert.equal(Buffer.from(stored.get(LEASE_ARTIFACT) ?? []).toString(), encodeLease(holder))
  })
})
