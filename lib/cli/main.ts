/**
 * The `credbroker` command line: parse → call lib → print. Exit codes: 0 success, 1 a clear
 * error the user can act on (a BrokerError, printed as `error [CODE]: message`), 2 usage errors
 * (unknown command or option, a command line of the wrong shape: a UsageError, also printed as
 * `error [ERR_BAD_REQUEST]: …`), 3 an internal error (details only in the log at debug level).
 */
import { systemClock } from '../clock.ts'
import { BadRequestError, isBrokerError } from '../errors.ts'
import { parseArgs } from './args.ts'
import { botCommand } from './commands/bot.ts'
import { botsCommand } from './commands/bots.ts'
import { doctorCommand } from './commands/doctor.ts'
import { fetchCommand } from './commands/fetch.ts'
import { kubeCommand } from './commands/kube.ts'
import { locksCommand } from './commands/locks.ts'
import { applyCommand, createCommand, getCommand, removeCommand } from './commands/resources.ts'
import { startCommand } from './commands/start.ts'
import { type CliIo, openContext, openLoggingOnly } from './context.ts'
import { UsageError } from './usage-error.ts'

export const USAGE = `Usage: credbroker <command> [options]

Commands:
  start [--oneshot]       the embedded main job: a local auth service with the example
                          cluster (examples/cluster) and the example bot (examples/bot.yaml)
                          writing real credentials; renews until Ctrl-C
  bot -c <file> [--oneshot]
                          run a bot from a configuration file (see examples/bot.yaml)
                          against the auth service it names
  bots add <name> --roles a,b [--token-ttl 1h]
                          create a bot and print its one-time join token
  bots instances add <name> [--token-ttl 1h]
                          a new join token for an existing bot (a new instance)
  bots ls                 list bots
  bots rm <name>          remove a bot, its join tokens and bot instances (its locks stay)
  locks ls [--json]       list the locks in force
  locks add (--user U | --role R | --bot-instance BOT/ID | --token NAME)
            [--message M] [--expires 12h|2026-01-01T00:00:00Z]
                          lock one target (joins, renewals, issuance, heartbeats and admin
                          requests are refused until the lock is removed or expires); prints
                          the new lock's id
  locks rm <id>           remove a lock
  get <kind>[/<name>]     print resources as YAML (kinds: role, bot, token, bot_instance,
                          lock, db, kube_cluster, app, node)
  create -f <file|dir>    create resources from YAML/JSON documents
  apply -f <file|dir>     create or update resources
  rm <kind>/<name>        delete a resource
  fetch --secret <id> (--out DIR | --artifact NAME | --json)
                          read the current credential a bot wrote to AWS Secrets Manager:
                          write every artifact to DIR (files 0600), print one artifact, or
                          print all as JSON; refuses an expired credential. Region from
                          AWS_REGION / AWS_DEFAULT_REGION; CREDBROKER_SECRETS_MANAGER_ENDPOINT
                          overrides the endpoint
  doctor -c <bot config> [--login NAME] [--json]
                          check a bot against the troubleshooting guide's symptoms (locks,
                          expired identity, SSH principals, databases not found, kube exec
                          plugin, auth address) and print each problem with its fix
  kube credentials --destination-dir <dir>
                          the exec credential plugin of a kubernetes output's kubeconfig:
                          print an ExecCredential from the certificate the bot wrote to <dir>

The state backend comes from the environment: CREDBROKER_STORE (embedded, memory, dynamodb),
CREDBROKER_STATE_DIR (default .credbroker), CREDBROKER_DYNAMODB_TABLE, AWS_REGION.`

const FLAGS = {
  file: { type: 'string', short: 'f' },
  help: { type: 'boolean', short: 'h' },
  oneshot: { type: 'boolean' },
  config: { type: 'string', short: 'c' },
  roles: { type: 'string' },
  'token-ttl': { type: 'string' },
  secret: { type: 'string' },
  out: { type: 'string' },
  artifact: { type: 'string' },
  json: { type: 'boolean' },
  'destination-dir': { type: 'string' },
  user: { type: 'string' },
  role: { type: 'string' },
  'bot-instance': { type: 'string' },
  token: { type: 'string' },
  message: { type: 'string' },
  expires: { type: 'string' },
  login: { type: 'string' },
} as const

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  let parsed: ReturnType<typeof parseArgs>
  try {
    parsed = parseArgs(argv, FLAGS)
  } catch (err) {
    io.stderr(`error: ${(err as Error).message}\n\n${USAGE}`)
    return 2
  }
  const [command, ...rest] = parsed.positionals
  if (parsed.flags.help || command === undefined || command === 'help') {
    io.stdout(USAGE)
    return command === undefined && !parsed.flags.help ? 2 : 0
  }
  try {
    return await run(command, rest, parsed.flags, io)
  } catch (err) {
    if (isBrokerError(err)) {
      io.stderr(`error [${err.code}]: ${err.message}`)
      const usage =
        err instanceof UsageError ||
        (err instanceof BadRequestError && err.message.startsWith('unknown command'))
      return usage ? 2 : 1
    }
    io.stderr(`internal error: ${(err as Error).message ?? String(err)}`)
    return 3
  }
}

async function run(
  command: string,
  args: readonly string[],
  flags: Readonly<Record<string, string | boolean>>,
  io: CliIo,
): Promise<number> {
  const file = typeof flags.file === 'string' ? flags.file : undefined
  const needFile = () => {
    if (file === undefined) throw new BadRequestError(`${command} needs -f <file|dir>`)
    return file
  }
  const commands: Record<string, () => Promise<number>> = {
    bot: async () =>
      botCommand(openLoggingOnly(io), io.cwd, {
        env: io.env,
        configPath: typeof flags.config === 'string' ? flags.config : undefined,
        oneshot: flags.oneshot === true,
      }),
    bots: async () =>
      withContext(io, (ctx) =>
        botsCommand(ctx, args, {
          ...(typeof flags.roles === 'string' && { roles: flags.roles }),
          ...(typeof flags['token-ttl'] === 'string' && { tokenTtl: flags['token-ttl'] }),
        }),
      ),
    locks: async () =>
      withContext(io, (ctx) =>
        locksCommand(ctx, args, {
          ...(typeof flags.user === 'string' && { user: flags.user }),
          ...(typeof flags.role === 'string' && { role: flags.role }),
          ...(typeof flags['bot-instance'] === 'string' && { botInstance: flags['bot-instance'] }),
          ...(typeof flags.token === 'string' && { token: flags.token }),
          ...(typeof flags.message === 'string' && { message: flags.message }),
          ...(typeof flags.expires === 'string' && { expires: flags.expires }),
          json: flags.json === true,
        }),
      ),
    start: async () =>
      withContext(io, (ctx) => startCommand(ctx, io.cwd, { oneshot: flags.oneshot === true, env: io.env })),
    get: async () => withContext(io, (ctx) => getCommand(ctx, args[0])),
    create: async () => withContext(io, (ctx) => createCommand(ctx, needFile())),
    apply: async () => withContext(io, (ctx) => applyCommand(ctx, needFile())),
    rm: async () => withContext(io, (ctx) => removeCommand(ctx, args[0])),
    doctor: async () =>
      doctorCommand(io, systemClock, {
        configPath: typeof flags.config === 'string' ? flags.config : undefined,
        login: typeof flags.login === 'string' ? flags.login : undefined,
        json: flags.json === true,
      }),
    fetch: async () =>
      fetchCommand({
        env: io.env,
        cwd: io.cwd,
        clock: systemClock,
        print: io.stdout,
        secret: typeof flags.secret === 'string' ? flags.secret : undefined,
        out: typeof flags.out === 'string' ? flags.out : undefined,
        artifact: typeof flags.artifact === 'string' ? flags.artifact : undefined,
        json: flags.json === true,
      }),
    kube: async () =>
      kubeCommand({
        args,
        destinationDir: typeof flags['destination-dir'] === 'string' ? flags['destination-dir'] : undefined,
        cwd: io.cwd,
        clock: systemClock,
        print: io.stdout,
      }),
  }
  const handler = commands[command]
  if (!handler) throw new BadRequestError(`unknown command "${command}"; run credbroker help`)
  return handler()
}

async function withContext(
  io: CliIo,
  body: (ctx: Awaited<ReturnType<typeof openContext>>) => Promise<number>,
) {
  const ctx = await openContext(io)
  try {
    return await body(ctx)
  } finally {
    await ctx.store.close()
  }
}
