/**
 * Every `credbroker` command, as one tree. `main.ts` dispatches on it, `help.ts` renders its
 * help, and `docs.ts` generates docs/CLI.md from it.
 */
import { stringFlag } from './args.ts'
import type { Command, Group } from './command.ts'
import { BOTS_COMMANDS, INSTANCES_COMMANDS } from './specs/bots.ts'
import { CA_COMMANDS } from './specs/ca.ts'
import { LOCKS_COMMANDS } from './specs/locks.ts'
import { RESOURCE_COMMANDS } from './specs/resources.ts'
import { AUTH_COMMANDS, BOT_COMMANDS, START_COMMAND, STATUS_COMMAND } from './specs/runtime.ts'
import { TOKENS_COMMANDS } from './specs/tokens.ts'
import { DOCTOR_COMMAND, FETCH_COMMAND, KUBE_CREDENTIALS_COMMAND, VERSION_COMMAND } from './specs/tools.ts'

const LOGIN_COMMAND: Command = {
  kind: 'command',
  name: 'login',
  summary: "get a short-lived admin identity from an auth service with this machine's AWS identity",
  details:
    'Writes key, tlscert and auth_server to --identity (CREDBROKER_IDENTITY, else ~/.credbroker/identity).',
  flags: {
    'auth-server': {
      type: 'string',
      value: 'URL',
      description: 'the auth service (env CREDBROKER_AUTH_SERVER)',
    },
    identity: {
      type: 'string',
      value: 'DIR',
      description: 'where to write the identity (env CREDBROKER_IDENTITY)',
    },
    ttl: {
      type: 'string',
      value: 'DURATION',
      description: 'lifetime of the identity (default 1h; at most 12h)',
    },
  },
  examples: ['credbroker login --auth-server https://auth.example.com --identity ~/.credbroker/identity'],
  output: { defaultFormat: 'text' },
  run: (inv) => {
    const authServer = stringFlag(inv.flags, 'auth-server')
    const identityDir = stringFlag(inv.flags, 'identity')
    const ttl = stringFlag(inv.flags, 'ttl')
    const format = stringFlag(inv.flags, 'format')
    return import('./commands/login.ts').then(({ loginCommand }) =>
      loginCommand(inv.io, {
        ...(authServer !== undefined && { authServer }),
        ...(identityDir !== undefined && { identityDir }),
        ...(ttl !== undefined && { ttl }),
        ...(format !== undefined && { format }),
      }),
    )
  },
}

const group = (name: string, summary: string, children: Group['children'], fallback?: Command): Group => ({
  kind: 'group',
  name,
  summary,
  children,
  ...(fallback && { fallback }),
})

export const COMMAND_TREE: Group = group('credbroker', 'short-lived machine credentials on AWS', [
  START_COMMAND,
  group('auth', 'run or bootstrap the auth service on the local state', AUTH_COMMANDS),
  group(
    'bot',
    'run a bot from its configuration file',
    [BOT_COMMANDS.start, BOT_COMMANDS.oneshot],
    BOT_COMMANDS.legacy,
  ),
  STATUS_COMMAND,
  group('bots', 'create, list, change and remove bots', [
    ...BOTS_COMMANDS,
    group('instances', 'join tokens for new bot instances, and the instances', INSTANCES_COMMANDS),
  ]),
  group('tokens', 'join tokens', TOKENS_COMMANDS),
  ...RESOURCE_COMMANDS,
  group('locks', 'lock users, roles, bot instances and join tokens', LOCKS_COMMANDS),
  group('ca', 'certificate authority rotation', CA_COMMANDS),
  FETCH_COMMAND,
  group('kube', 'Kubernetes helpers', [KUBE_CREDENTIALS_COMMAND]),
  DOCTOR_COMMAND,
  LOGIN_COMMAND,
  VERSION_COMMAND,
])
