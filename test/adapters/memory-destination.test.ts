import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { MemoryDestination } from '../../lib/adapters/memory/destination.ts'
import { runDestinationConformance } from '../conformance/destination.suite.ts'

runDestinationConformance(
  'memory',
  async () => ({ destination: new MemoryDestination(), cleanup: async () => {} }),
  { skip: { 'the set survives a restart': 'the memory destination keeps nothing across restarts' } },
)

describe('Class: MemoryDestination', () => {
  it('describe() includes the label', () => {
    assert.equal(new MemoryDestination().describe(), 'memory')
    assert.equal(new MemoryDestination({ label: 'ci-ssh' }).describe(), 'memory ci-ssh')
  })

  it('records the issuance id of the current set', async () => {
    const d = new MemoryDestination()
    await d.write(new Map([['key', 'k']]), { issuanceId: 'iss-1' })
    assert.equal(d.issuanceId, 'iss-1')
    await d.write(new Map([['key', 'k']]))
    assert.equal(d.issuanceId, undefined)
  })
})
