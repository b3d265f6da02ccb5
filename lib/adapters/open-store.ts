/**
 * Composition root for the state store: picks the adapter named by configuration with an
 * explicit switch (no self-registering imports), loading each adapter only when chosen so a
 * bundled Lambda never pulls in the native SQLite module.
 */
import { join } from 'node:path'
import type { Clock } from '../clock.ts'
import type { StoreConfig } from '../config/load-config.ts'
import type { Store } from '../ports/store.ts'
import type { Random } from '../random.ts'

/** File name of the embedded database inside the state directory. */
export const EMBEDDED_DB_FILE = 'state.db'

export interface OpenStoreDeps {
  clock?: Clock
  random?: Random
}

export async function openStore(config: StoreConfig, deps: OpenStoreDeps = {}): Promise<Store> {
  switch (config.kind) {
    case 'memory': {
      const { MemoryStore } = await import('./memory/store.ts')
      return new MemoryStore(deps)
    }
    case 'embedded': {
      const { EmbeddedStore } = await import('./embedded/store.ts')
      return EmbeddedStore.open({ path: join(config.stateDir, EMBEDDED_DB_FILE), ...deps })
    }
    case 'dynamodb': {
      const { DynamoDbStore } = await import('./dynamodb/store.ts')
      const clientConfig =
        config.endpoint === undefined
          ? { region: config.region }
          : { region: config.region, endpoint: config.endpoint.toString() }
      return new DynamoDbStore({ tableName: config.tableName, clientConfig, ...deps })
    }
  }
}
