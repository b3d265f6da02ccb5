/**
 * Locks. Declarations only: each command's code is imported when it runs, so
 * `--help` and the tree stay cheap to load.
 */
import type { Command } from '../command.ts'

const locksLs: Command = {
  kind: 'command',
  name: 'ls',
  summary: 'list the locks in force',
  flags: { json: { type: 'boolean', description: 'same as --format json', hidden: true } },
  examples: ['credbroker locks ls', 'credbroker locks ls --format json'],
  output: { defaultFormat: 'text' },
  remote: true,
  run: (inv) => import('../commands/locks.ts').then((m) => m.runLocksLs(inv)),
}

const locksAdd: Command = {
  kind: 'command',
  name: 'add',
  summary: 'lock one target: its joins, renewals, issuance, heartbeats and admin requests are refused',
  flags: {
    user: { type: 'string', value: 'USER', description: 'lock a user, e.g. bot-ci' },
    role: { type: 'string', value: 'ROLE', description: 'lock a role' },
    'bot-instance': { type: 'string', value: 'BOT/ID', description: 'lock one bot instance' },
    token: { type: 'string', value: 'NAME', description: 'lock a join token' },
    message: { type: 'string', value: 'TEXT', description: 'why (shown to the locked caller)' },
    expires: {
      type: 'string',
      value: 'WHEN',
      description: 'a duration (12h) or RFC 3339 instant; default never',
    },
  },
  examples: ['credbroker locks add --bot-instance ci/<id> --message "investigating" --expires 12h'],
  remote: true,
  run: (inv) => import('../commands/locks.ts').then((m) => m.runLocksAdd(inv)),
}

const locksRm: Command = {
  kind: 'command',
  name: 'rm',
  summary: 'remove a lock',
  args: [{ name: 'id', description: 'the lock id, as locks ls prints it' }],
  examples: ['credbroker locks rm 3f2c0b7e-8d1a-4c56-9e0f-2b7a4d1c9e85'],
  remote: true,
  run: (inv) => import('../commands/locks.ts').then((m) => m.runLocksRm(inv)),
}

export const LOCKS_COMMANDS = [locksLs, locksAdd, locksRm] as const
