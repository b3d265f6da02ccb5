/**
 * Composition root for destinations: builds the adapter a destination config names, with an
 * explicit switch (G4).
 */
import { DirectoryDestination } from '../adapters/directory/destination.ts'
import { MemoryDestination } from '../adapters/memory/destination.ts'
import type { Clock } from '../clock.ts'
import { InvalidConfigError } from '../errors.ts'
import type { Destination } from '../ports/destination.ts'
import type { BotConfig, DestinationConfig } from './config.ts'

export function openDestination(config: DestinationConfig, field: string, clock: Clock): Destination {
  switch (config.type) {
    case 'directory':
      return new DirectoryDestination({ path: config.path, symlinks: config.symlinks, clock })
    case 'memory':
      return new MemoryDestination()
    case 'aws_secrets_manager':
      throw new InvalidConfigError(
        `${field}.type`,
        'aws_secrets_manager destinations are not available in this release',
      )
  }
}

/** The storage destination and one destination per output. */
export function openBotDestinations(config: BotConfig, clock: Clock) {
  return {
    storage: openDestination(config.storage, 'storage', clock),
    destinations: new Map(
      config.outputs.map(
        (o, i) => [o.name, openDestination(o.destination, `outputs[${i}].destination`, clock)] as const,
      ),
    ),
  }
}
