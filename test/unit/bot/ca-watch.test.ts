/** Which CA changes make the bot reissue every output (`ca-watch.ts`). */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import type { CaBundleResponse } from '../../../lib/bot/auth-client.ts'
import { CaWatch } from '../../../lib/bot/ca-watch.ts'
import type { RotationPhase } from '../../../lib/ca/rotation-phases.ts'

const bundle = (
  phase: RotationPhase,
  tls = 'old',
  extra: Partial<CaBundleResponse> = {},
): CaBundleResponse => ({
  cluster_name: 'test.local',
  tls: { user: [], host: [], db: [] },
  ssh: { user: [], host: [] },
  known_hosts: '',
  jwks: { keys: [] },
  rotation: { user: { phase, tls }, host: { phase: 'standby', tls: 'host' } },
  ...extra,
})

describe('CaWatch', () => {
  it('only records on the first observation', () => {
    assert.deepEqual(new CaWatch().observe(bundle('update_clients', 'new')), { reissue: false, changes: [] })
  })

  const cases: [RotationPhase, string, RotationPhase, string, boolean][] = [
    ['standby', 'old', 'standby', 'old', false],
    ['standby', 'old', 'init', 'old', false],
    ['init', 'old', 'update_clients', 'new', true],
    ['update_clients', 'new', 'update_servers', 'new', false],
    ['update_servers', 'new', 'standby', 'new', true],
    ['update_clients', 'new', 'rollback', 'old', true],
    ['init', 'old', 'rollback', 'old', true],
    // Missed update_clients: the signing key changed, so reissue in update_servers.
    ['init', 'old', 'update_servers', 'new', true],
  ]
  for (const [from, fromKey, to, toKey, reissue] of cases) {
    it(`${from} → ${to}: ${reissue ? 'reissues' : 'does not reissue'}`, () => {
      const watch = new CaWatch()
      watch.observe(bundle(from, fromKey))
      const seen = watch.observe(bundle(to, toKey))
      assert.equal(seen.reissue, reissue)
      if (from !== to)
        assert.deepEqual(
          seen.changes.map((c) => `${c.ca}:${c.from}→${c.to}`),
          [`user:${from}→${to}`],
        )
    })
  }

  it('compares with the previous cycle, not the first', () => {
    const watch = new CaWatch()
    watch.observe(bundle('init'))
    assert.equal(watch.observe(bundle('update_clients', 'new')).reissue, true)
    assert.equal(watch.observe(bundle('update_clients', 'new')).reissue, false)
  })

  it('never reissues for a server that reports no rotation', () => {
    const watch = new CaWatch()
    const { rotation: _, ...plain } = bundle('standby')
    watch.observe(plain)
    assert.equal(watch.observe(plain).reissue, false)
  })
})
