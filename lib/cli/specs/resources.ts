/**
 * Resource documents: get, create, apply, rm. Declarations only: each command's code is imported when it runs, so
 * `--help` and the tree stay cheap to load.
 */
import type { Command } from '../command.ts'

/** Every resource kind (lib/resources/schemas.ts RESOURCE_KINDS; test/cli/help.test.ts checks). */
export const KIND_LIST = 'role, bot, token, bot_instance, lock, db, kube_cluster, app, node'

const FILE_FLAG = {
  file: {
    type: 'string',
    short: 'f',
    value: 'FILE|DIR',
    description: 'YAML/JSON documents (a directory: every file)',
  },
} as const

const getCommand: Command = {
  kind: 'command',
  name: 'get',
  summary: 'print one resource, or every resource of a kind',
  details: `Kinds: ${KIND_LIST}. YAML by default (feed it back to create/apply -f); --format text prints a table.`,
  args: [{ name: 'kind[/name]', description: 'e.g. role, role/access, bot_instance/ci/<id>' }],
  examples: ['credbroker get role/access', 'credbroker get lock --format json'],
  output: { defaultFormat: 'yaml' },
  remote: true,
  run: (inv) => import('../commands/resources.ts').then((m) => m.runGet(inv)),
}

const createCommand: Command = {
  kind: 'command',
  name: 'create',
  summary: 'create resources from YAML/JSON documents; fails if one exists',
  flags: FILE_FLAG,
  examples: ['credbroker create -f lock.yaml'],
  output: { defaultFormat: 'text' },
  remote: true,
  run: (inv) => import('../commands/resources.ts').then((m) => m.runCreate(inv)),
}

const applyCommand: Command = {
  kind: 'command',
  name: 'apply',
  summary: 'create or update resources from YAML/JSON documents',
  flags: FILE_FLAG,
  examples: ['credbroker apply -f examples/cluster'],
  output: { defaultFormat: 'text' },
  remote: true,
  run: (inv) => import('../commands/resources.ts').then((m) => m.runApply(inv)),
}

const removeCommand: Command = {
  kind: 'command',
  name: 'rm',
  summary: 'delete a resource',
  args: [{ name: 'kind/name', description: 'e.g. lock/<id>, db/example' }],
  examples: ['credbroker rm db/example'],
  remote: true,
  run: (inv) => import('../commands/resources.ts').then((m) => m.runRemove(inv)),
}

export const RESOURCE_COMMANDS = [getCommand, createCommand, applyCommand, removeCommand] as const
