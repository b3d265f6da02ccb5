/**
 * Admin changes made by the CLI on the local state (lib/cli/admin/local-backend.ts) leave the same
 * audit records under `audit/` as the same changes through the admin HTTP API (the remote
 * backend against an auth service): `role.created|updated|deleted` from `apply` and `rm`,
 * `lock.created|updated|deleted` from `locks add`, `apply` and `locks rm`, the local ones by the
 * acting user `cli`.
 */
import assert from 'node:assert/strict'
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { afterEach, beforeEach, describe, it } from 'node:test'
import { MemoryKeyStore } from '../../../lib/adapters/memory/key-store.ts'
import { MemoryStore } from '../../../lib/adapters/memory/store.ts'
import { openStore } from '../../../lib/adapters/open-store.ts'
import { issueAdminIdentity } from '../../../lib/auth/admin.ts'
import { parseCallerPublicKey } from '../../../lib/auth/public-key.ts'
import { createAuthService } from '../../../lib/auth/service.ts'
import { generateClientKey } from '../../../lib/bot/keys.ts'
import type { AdminBackend } from '../../../lib/cli/admin/backend.ts'
import { applyDocuments } from '../../../lib/cli/commands/resources.ts'
import { main } from '../../../lib/cli/main.ts'
import { remoteBackend } from '../../../lib/cli/remote/remote-backend.ts'
import { ManualClock } from '../../../lib/clock.ts'
import { loadConfig } from '../../../lib/config/load-config.ts'
import { silentLogger } from '../../../lib/log.ts'
import type { Store } from '../../../lib/ports/store.ts'
import { cryptoRandom } from '../../../lib/random.ts'
import type { Lock, Role } from '../../../lib/resources/types.ts'

const START = Date.UTC(2026, 10, 22, 12)
/** A role document as written in a file (the service fills in the defaults). */
const role = (logins: string[]) =>
  ({
    kind: 'role',
    version: 'v1',
    metadata: { name: 'extra', labels: {} },
    spec: { allow: { logins } },
  }) as unknown as Role

interface AuditRecord {
  readonly type: string
  readonly user: string
  readonly success: boolean
  readonly time: string
  readonly [field: string]: unknown
}

/** Every audit record in `store`, oldest first, with lock ids replaced by `<lock>` for comparison. */
async function auditRecords(store: Store): Promise<AuditRecord[]> {
  const records = (await store.list('audit/')).items.map((i) => JSON.parse(i.value) as AuditRecord)
  return records.map((r) => (typeof r.lock === 'string' ? { ...r, lock: '<lock>' } : r))
}

describe('audit records of CLI changes on the local state', () => {
  let dir: string
  let clock: ManualClock
  let err: string[]
  const env = () => ({ CREDBROKER_STATE_DIR: join(dir, '.credbroker'), CREDBROKER_LOG_LEVEL: 'error' })
  /** Runs a command that must succeed one minute after the previous one; returns what it printed. */
  const ok = async (...argv: string[]) => {
    clock.advance(60_000)
    const out: string[] = []
    err = []
    const io = {
      env: env(),
      cwd: dir,
      clock,
      stdout: (t: string) => out.push(t),
      stderr: (t: string) => err.push(t),
    }
    assert.equal(await main(argv, io), 0, err.join('\n'))
    return out.join('\n')
  }
  const file = (name: string, doc: unknown) => {
    const path = join(dir, name)
    writeFileSync(path, JSON.stringify(doc))
    return path
  }

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'credbroker-local-audit-'))
    clock = new ManualClock(START)
  })
  afterEach(() => rmSync(dir, { recursive: true, force: true }))

  it('ok/apply, rm, locks add and locks rm record what the admin API records for the same changes', async () => {
    // Act (local): a role created, changed and removed; a lock added, reworded and removed.
    await ok('apply', '-f', file('role.json', role(['alice'])))
    await ok('apply', '-f', file('role-changed.json', role(['alice', 'bob'])))
    const id = await ok('locks', 'add', '--user', 'bot-ci', '--message', 'incident 7')
    const lock = JSON.parse(await ok('get', `lock/${id}`, '--format', 'json')) as Lock
    await ok('apply', '-f', file('lock.json', { ...lock, spec: { ...lock.spec, message: 'reworded' } }))
    await ok('locks', 'rm', id)
    await ok('rm', 'role/extra')
    const store = await openStore(loadConfig(env(), dir).store, { clock })
    const local = await auditRecords(store).finally(() => store.close())

    // Act (remote): the same changes through the admin API of an auth service.
    const remote = await remoteRecords()

    // Assess: the same events, in the same order, with the same fields; local ones by `cli`.
    const lockFields = { lock: '<lock>', target: 'user "bot-ci"', expires: null }
    assert.deepEqual(
      local.map(({ time: _t, user: _u, ...rest }) => rest),
      [
        { type: 'role.created', success: true, role: 'extra' },
        { type: 'role.updated', success: true, role: 'extra' },
        { type: 'lock.created', success: true, ...lockFields, message: 'incident 7' },
        { type: 'lock.updated', success: true, ...lockFields, message: 'reworded' },
        { type: 'lock.deleted', success: true, ...lockFields, message: 'reworded' },
        { type: 'role.deleted', success: true, role: 'extra' },
      ],
    )
    assert.ok(
      local.every((r) => r.user === 'cli'),
      local.map((r) => r.user).join(','),
    )
    const comparable = (records: AuditRecord[]) => records.map(({ time: _t, user: _u, ...rest }) => rest)
    assert.deepEqual(comparable(local), comparable(remote))
  })

  /** The audit records the admin HTTP API leaves for the test's changes, through the remote backend. */
  async function remoteRecords(): Promise<AuditRecord[]> {
    const remoteClock = new ManualClock(START)
    const store = new MemoryStore({ clock: remoteClock })
    const service = await createAuthService({
      clusterName: 'test.local',
      publicAddr: 'http://auth.test',
      store,
      keys: new MemoryKeyStore(),
      clock: remoteClock,
      random: cryptoRandom,
      log: silentLogger,
    })
    const key = generateClientKey()
    const certs = await issueAdminIdentity(service.deps, parseCallerPublicKey(key.publicPem), 3600_000)
    const since = (await auditRecords(store)).length
    const admin: AdminBackend = remoteBackend({
      baseUrl: 'http://auth.test',
      identity: {
        key: key.privateKey,
        tlsCertPem: certs.tlsCertPem,
        dir,
        notAfter: new Date(START + 3600_000),
      },
      clock: remoteClock,
      fetch: async (url, init) => service.app.request(String(url), init),
    })
    const step = async <T>(change: () => Promise<T>) => {
      remoteClock.advance(60_000)
      return change()
    }
    await step(() => applyDocuments(admin, [role(['alice'])]))
    await step(() => applyDocuments(admin, [role(['alice', 'bob'])]))
    const lock = await step(() => admin.addLock({ target: { user: 'bot-ci' }, message: 'incident 7' }))
    await step(() => applyDocuments(admin, [{ ...lock, spec: { ...lock.spec, message: 'reworded' } }]))
    await step(() => admin.removeLock(lock.metadata.name))
    await step(() => admin.remove('role', 'extra'))
    return (await auditRecords(store)).slice(since)
  }
})
