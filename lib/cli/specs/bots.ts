/**
 * Bots and bot instances. Declarations only: each command's code is imported when it runs, so
 * `--help` and the tree stay cheap to load.
 */
import type { Command } from '../command.ts'

const TOKEN_TTL_FLAG = {
  'token-ttl': {
    type: 'string',
    value: 'DURATION',
    description: 'join token lifetime, e.g. 30m (default 1h)',
  },
} as const

const botsAdd: Command = {
  kind: 'command',
  name: 'add',
  summary: 'create a bot and print its one-time join token',
  args: [{ name: 'name', description: 'the bot name (its user is bot-<name>)' }],
  flags: {
    roles: { type: 'string', value: 'ROLES', description: 'comma-separated roles the bot may impersonate' },
    ...TOKEN_TTL_FLAG,
  },
  examples: ['credbroker bots add ci --roles access,machine-id-db --token-ttl 30m'],
  output: { defaultFormat: 'text' },
  remote: true,
  run: (inv) => import('../commands/bots.ts').then((m) => m.runBotsAdd(inv)),
}

const botsLs: Command = {
  kind: 'command',
  name: 'ls',
  summary: 'list bots and their roles',
  examples: ['credbroker bots ls', 'credbroker bots ls --format json'],
  output: { defaultFormat: 'text' },
  remote: true,
  run: (inv) => import('../commands/bots.ts').then((m) => m.runBotsLs(inv)),
}

const botsUpdate: Command = {
  kind: 'command',
  name: 'update',
  summary: "change a bot's roles",
  args: [{ name: 'name', description: 'the bot' }],
  flags: {
    roles: { type: 'string', value: 'ROLES', description: 'replace the roles (comma-separated)' },
    'add-roles': { type: 'string', value: 'ROLES', description: 'add these roles' },
    'remove-roles': { type: 'string', value: 'ROLES', description: 'remove these roles' },
  },
  examples: [
    'credbroker bots update ci --add-roles machine-id-db',
    'credbroker bots update ci --roles access',
  ],
  output: { defaultFormat: 'text' },
  remote: true,
  run: (inv) => import('../commands/bots.ts').then((m) => m.runBotsUpdate(inv)),
}

const botsRm: Command = {
  kind: 'command',
  name: 'rm',
  summary: 'remove a bot, its join tokens and bot instances (its locks stay)',
  args: [{ name: 'name', description: 'the bot' }],
  examples: ['credbroker bots rm ci'],
  output: { defaultFormat: 'text' },
  remote: true,
  run: (inv) => import('../commands/bots.ts').then((m) => m.runBotsRm(inv)),
}

const instancesAdd: Command = {
  kind: 'command',
  name: 'add',
  summary: 'a new one-time join token for an existing bot (a new bot instance on join)',
  args: [{ name: 'bot', description: 'the bot' }],
  flags: TOKEN_TTL_FLAG,
  examples: ['credbroker bots instances add ci --token-ttl 10m'],
  output: { defaultFormat: 'text' },
  remote: true,
  run: (inv) => import('../commands/bot-instances.ts').then((m) => m.runInstancesAdd(inv)),
}

const instancesLs: Command = {
  kind: 'command',
  name: 'ls',
  summary: 'list bot instances, of one bot or of all',
  args: [{ name: 'bot', description: 'only this bot', required: false }],
  examples: ['credbroker bots instances ls ci'],
  output: { defaultFormat: 'text' },
  remote: true,
  run: (inv) => import('../commands/bot-instances.ts').then((m) => m.runInstancesLs(inv)),
}

const instancesShow: Command = {
  kind: 'command',
  name: 'show',
  summary: 'one bot instance: joins, generation, heartbeats',
  args: [{ name: 'bot/id', description: 'the instance, as bots instances ls prints it' }],
  examples: ['credbroker bots instances show ci/3f2c0b7e-8d1a-4c56-9e0f-2b7a4d1c9e85'],
  output: { defaultFormat: 'text' },
  remote: true,
  run: (inv) => import('../commands/bot-instances.ts').then((m) => m.runInstancesShow(inv)),
}

export const BOTS_COMMANDS = [botsAdd, botsLs, botsUpdate, botsRm] as const
export const INSTANCES_COMMANDS = [instancesAdd, instancesLs, instancesShow] as const
