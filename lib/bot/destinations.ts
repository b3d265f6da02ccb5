/**
 * Composition root for destinations: builds the adapter a destination config names, with an
 * explicit switch (G4).
 */
import { DirectoryDestination } from '../adapters/directory/destination.ts'
import { MemoryDestination } from '../adapters/memory/destination.ts'
import { SecretsManagerDestination } from '../adapters/secrets-manager/destination.ts'
import type { Clock } from '../clock.ts'
import { InvalidConfigError } from '../errors.ts'
import type { Destination } from '../ports/destination.ts'
import type { BotConfig, DestinationConfig } from './config.ts'

/** What {@link openDestination} needs besides the config, for destinations in AWS. */
export interface DestinationContext {
  /** Tags a Secrets Manager secret (`credbroker:bot`); `unknown` when absent. */
  botName?: string
  /** Tags a Secrets Manager secret (`credbroker:output`); `unknown` when absent. */
  outputName?: string
  /** Region of a Secrets Manager destination that names none. */
  defaultRegion?: string
  /** Secrets Manager endpoint override (moto in tests); AWS's endpoint when absent. */
  secretsManagerEndpoint?: string
}

export function openDestination(
  config: DestinationConfig,
  field: string,
  clock: Clock,
  context: DestinationContext = {},
): Destination {
  switch (config.type) {
    case 'directory':
      return new DirectoryDestination({ path: config.path, symlinks: config.symlinks, clock })
    case 'memory':
      return new MemoryDestination()
    case 'aws_secrets_manager': {
      const region = config.region ?? context.defaultRegion
      if (region === undefined) {
        throw new InvalidConfigError(`${field}.region`, 'is required (no default region was given)')
      }
      return new SecretsManagerDestination({
        name: config.name,
        clientConfig: {
          region,
          ...(context.secretsManagerEndpoint !== undefined && { endpoint: context.secretsManagerEndpoint }),
        },
        ...(config.kmsKeyId === undefined ? {} : { kmsKeyId: config.kmsKeyId }),
        readers: config.readers,
        tags: { bot: context.botName ?? 'unknown', output: context.outputName ?? 'unknown' },
        clock,
      })
    }
  }
}

/**
 * The storage destination and one destination per output. `options` name the bot and a default
 * region for Secrets Manager destinations (see {@link DestinationContext}).
 */
export function openBotDestinations(
  config: BotConfig,
  clock: Clock,
  options: Pick<DestinationContext, 'botName' | 'defaultRegion' | 'secretsManagerEndpoint'> = {},
) {
  return {
    storage: openDestination(config.storage, 'storage', clock, { ...options, outputName: 'bot-storage' }),
    destinations: new Map(
      config.outputs.map(
        (o, i) =>
          [
            o.name,
            openDestination(o.destination, `outputs[${i}].destination`, clock, {
              ...options,
              outputName: o.name,
            }),
          ] as const,
      ),
    ),
  }
}
