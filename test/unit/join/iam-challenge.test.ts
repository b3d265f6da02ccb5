import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryStore } from '../../../lib/adapters/memory/store.ts'
import { ManualClock } from '../../../lib/clock.ts'
import { CHALLENGE_TTL_MS, consumeChallenge, issueChallenge } from '../../../lib/join/iam/challenge.ts'
import { cryptoRandom } from '../../../lib/random.ts'

function deps() {
  const clock = new ManualClock()
  return { clock, store: new MemoryStore({ clock }), random: cryptoRandom }
}

describe('iam challenges', () => {
  it('ok/issued for a token, consumed once', async () => {
    const d = deps()
    const { challenge, expires } = await issueChallenge(d, 'tok')
    assert.equal(expires.getTime() - d.clock.now().getTime(), CHALLENGE_TTL_MS)
    assert.equal(await consumeChallenge(d, challenge), 'tok')
    assert.equal(await consumeChallenge(d, challenge), undefined)
  })

  it('fail/expired or unknown challenges are not found', async () => {
    const d = deps()
    const { challenge } = await issueChallenge(d, 'tok')
    d.clock.advance(CHALLENGE_TTL_MS)
    assert.equal(await consumeChallenge(d, challenge), undefined)
    assert.equal(await consumeChallenge(d, ''), undefined)
    assert.equal(await consumeChallenge(d, 'x'.repeat(300)), undefined)
  })

  it('fail/concurrent consumers: exactly one wins', async () => {
    const d = deps()
    const { challenge } = await issueChallenge(d, 'tok')
    const results = await Promise.all(Array.from({ length: 8 }, () => consumeChallenge(d, challenge)))
    assert.equal(results.filter((r) => r === 'tok').length, 1)
  })
})
