/**
 * Running things: the embedded main job, the auth service, a bot, and its status. Declarations only: each command's code is imported when it runs, so
 * `--help` and the tree stay cheap to load.
 */
import type { Command } from '../command.ts'

const DOCUMENT_FLAGS = {
  file: {
    type: 'list',
    short: 'f',
    value: 'FILE|DIR',
    description: 'documents to create or update first (repeatable), e.g. examples/cluster',
  },
} as const

const BOT_FLAGS = {
  config: {
    type: 'string',
    short: 'c',
    value: 'FILE',
    description: 'the bot configuration (see examples/bot.yaml)',
  },
  'auth-server': {
    type: 'string',
    value: 'URL',
    description: "overrides the config's auth_server (env CREDBROKER_AUTH_SERVER)",
  },
} as const

const BOT_DETAILS = [
  'The auth service comes from --auth-server, then CREDBROKER_AUTH_SERVER, then the config file.',
  'SIGHUP or SIGUSR1 renews at once; SIGINT/SIGTERM stops. With reissue: in the config, the',
  'daemon also serves POST /v1/reissue and GET /v1/status on that loopback address.',
].join('\n')

const startCommand: Command = {
  kind: 'command',
  name: 'start',
  summary: 'the embedded main job: a local auth service with the example cluster and the example bot',
  details: [
    `Serves the auth service on CREDBROKER_LISTEN (127.0.0.1:3025) with its state in CREDBROKER_STATE_DIR`,
    `(.credbroker), applies examples/cluster, runs the bot of examples/bot.yaml and renews until Ctrl-C.`,
    'Writes an admin identity to <state>/admin/ for --identity.',
  ].join('\n'),
  flags: { oneshot: { type: 'boolean', description: 'stop after the first bot cycle' } },
  examples: ['credbroker start', 'credbroker start --oneshot'],
  run: (inv) => import('../commands/start.ts').then((m) => m.runStart(inv)),
}

const authStart: Command = {
  kind: 'command',
  name: 'start',
  summary: 'serve the auth service on CREDBROKER_LISTEN until Ctrl-C',
  flags: DOCUMENT_FLAGS,
  examples: ['CREDBROKER_LISTEN=127.0.0.1:3025 credbroker auth start -f examples/cluster'],
  output: { defaultFormat: 'text' },
  run: (inv) => import('../commands/auth.ts').then((m) => m.runAuthStart(inv)),
}

const authBootstrap: Command = {
  kind: 'command',
  name: 'bootstrap',
  summary: 'create the auth state, CAs and admin identity, apply documents, and exit',
  flags: DOCUMENT_FLAGS,
  examples: ['credbroker auth bootstrap -f examples/cluster'],
  output: { defaultFormat: 'text' },
  run: (inv) => import('../commands/auth.ts').then((m) => m.runAuthBootstrap(inv)),
}

const botStart: Command = {
  kind: 'command',
  name: 'start',
  summary: 'run a bot as a daemon: join, write every output, renew until stopped',
  details: BOT_DETAILS,
  flags: BOT_FLAGS,
  examples: ['credbroker bot start -c examples/bot.yaml'],
  run: (inv) => import('../commands/bot.ts').then((m) => m.runBotStart(inv)),
}

const botOneshot: Command = {
  kind: 'command',
  name: 'oneshot',
  summary: 'run one bot cycle (join or renew, write every output) and exit; 1 if an output failed',
  details: BOT_DETAILS,
  flags: BOT_FLAGS,
  examples: ['credbroker bot oneshot -c examples/bot.yaml'],
  run: (inv) => import('../commands/bot.ts').then((m) => m.runBotOneshot(inv)),
}

const botLegacy: Command = {
  kind: 'command',
  name: 'bot',
  summary: 'same as bot start, or bot oneshot with --oneshot',
  flags: { ...BOT_FLAGS, oneshot: { type: 'boolean', description: 'run one cycle and exit' } },
  examples: ['credbroker bot -c examples/bot.yaml --oneshot'],
  hidden: true,
  run: (inv) => import('../commands/bot.ts').then((m) => m.runBotLegacy(inv)),
}

const statusCommand: Command = {
  kind: 'command',
  name: 'status',
  summary: "a bot's outputs: when each was issued and expires, and the bot identity's expiry",
  details: [
    "With reissue: in the config, asks the running daemon (GET /v1/status); otherwise reads the bot's",
    'storage and destinations.',
  ].join('\n'),
  flags: { config: { type: 'string', short: 'c', value: 'FILE', description: 'the bot configuration' } },
  examples: [
    'credbroker status -c examples/bot.yaml',
    'credbroker status -c examples/bot.yaml --format json',
  ],
  output: { defaultFormat: 'text' },
  run: (inv) => import('../commands/status.ts').then((m) => m.runStatus(inv)),
}

export const START_COMMAND = startCommand
export const STATUS_COMMAND = statusCommand
export const AUTH_COMMANDS = [authStart, authBootstrap] as const
export const BOT_COMMANDS = { start: botStart, oneshot: botOneshot, legacy: botLegacy } as const
