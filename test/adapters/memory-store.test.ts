import { MemoryStore } from '../../lib/adapters/memory/store.ts'
import { ManualClock } from '../../lib/clock.ts'
import { runStoreConformance } from '../conformance/store.suite.ts'

runStoreConformance(
  'memory',
  async () => {
    const clock = new ManualClock()
    const store = new MemoryStore({ clock })
    return { store, clock, cleanup: () => store.close() }
  },
  {
    skip: {
      'items, revisions and expiry survive a restart': 'the memory store keeps nothing across restarts',
    },
  },
)
