/**
 * The `credbroker` command line: find the command in the tree (`tree.ts`), parse its options,
 * check its arguments, run it. Help comes from the same declarations (`help.ts`).
 *
 * Exit codes: 0 success; 1 an error to act on, printed as `error [CODE]: message` plus a `hint:`
 * line where one helps; 2 usage (unknown command or option, missing or extra argument, an option
 * value that does not parse: a UsageError); 3 an internal error.
 */
import { systemClock } from '../clock.ts'
import { parseArgs, stringFlag } from './args.ts'
import type { Command, Group, Invocation, Node } from './command.ts'
import { flagsOf } from './common-flags.ts'
import type { CliIo } from './context.ts'
import { commandHelp, groupHelp } from './help.ts'
import { chooseFormat } from './output.ts'
import { EXIT_OK, EXIT_USAGE, reportError } from './report-error.ts'
import { COMMAND_TREE } from './tree.ts'
import { UsageError } from './usage-error.ts'

/** Where a command line leads: a node, the words that named it, and the rest of argv. */
interface Resolved {
  readonly node: Node
  readonly path: readonly string[]
  readonly rest: readonly string[]
}

export async function main(argv: readonly string[], io: CliIo): Promise<number> {
  if (argv[0] === 'help') return help(argv.slice(1), io)
  const resolved = resolve(argv)
  try {
    if (resolved.node.kind === 'group') return await runGroup(resolved, resolved.node, io)
    return await runCommand(resolved.path, resolved.node, resolved.rest, io)
  } catch (err) {
    return reportError(io, err, resolved.path.join(' '))
  }
}

/** Walks the tree along the leading words of argv; stops at a command, an option or a non-child. */
function resolve(argv: readonly string[], root: Group = COMMAND_TREE): Resolved {
  let node: Node = root
  const path: string[] = []
  let i = 0
  while (node.kind === 'group' && i < argv.length) {
    const child: Node | undefined = node.children.find((c) => c.name === argv[i])
    if (child === undefined) break
    node = child
    path.push(argv[i] as string)
    i++
  }
  return { node, path, rest: argv.slice(i) }
}

/** A group named without a (known) subcommand: its help, its fallback, or a usage error. */
function runGroup(resolved: Resolved, group: Group, io: CliIo): Promise<number> | number {
  const [next] = resolved.rest
  if (next === undefined || next === '--help' || next === '-h') {
    const text = groupHelp(resolved.path, group)
    if (next === undefined) {
      io.stderr(text)
      return EXIT_USAGE
    }
    io.stdout(text)
    return EXIT_OK
  }
  if (group.fallback && next.startsWith('-'))
    return runCommand(resolved.path, group.fallback, resolved.rest, io)
  const what = next.startsWith('-')
    ? `a command before ${next}`
    : `command "${[...resolved.path, next].join(' ')}"`
  throw new UsageError(
    next.startsWith('-') ? `expected ${what}` : `unknown ${what}; expected one of ${childNames(group)}`,
  )
}

async function runCommand(path: readonly string[], cmd: Command, rest: readonly string[], io: CliIo) {
  const parsed = parseArgs(rest, flagsOf(cmd))
  if (parsed.flags.help === true) {
    io.stdout(commandHelp(path, cmd))
    return EXIT_OK
  }
  checkArity(path, cmd, parsed.positionals)
  const inv: Invocation = {
    io,
    path,
    args: parsed.positionals,
    flags: parsed.flags,
    format: chooseFormat(
      cmd.output ? stringFlag(parsed.flags, 'format') : undefined,
      cmd.output ? io.env : {},
      cmd.output?.defaultFormat ?? 'text',
    ),
    clock: io.clock ?? systemClock,
  }
  return cmd.run(inv)
}

function checkArity(path: readonly string[], cmd: Command, positionals: readonly string[]): void {
  const specs = cmd.args ?? []
  const missing = specs.slice(positionals.length).find((a) => a.required !== false)
  if (missing) throw new UsageError(`${path.join(' ')}: missing <${missing.name}>`)
  if (positionals.length > specs.length)
    throw new UsageError(`${path.join(' ')}: unexpected argument "${positionals[specs.length]}"`)
}

/** `credbroker help [command…]`. */
function help(words: readonly string[], io: CliIo): number {
  const resolved = resolve(words)
  if (resolved.rest.length > 0) {
    return reportError(io, new UsageError(`unknown command "${words.join(' ')}"`), resolved.path.join(' '))
  }
  const { node, path } = resolved
  io.stdout(node.kind === 'group' ? groupHelp(path, node) : commandHelp(path, node))
  return EXIT_OK
}

function childNames(group: Group): string {
  return group.children.map((c) => c.name).join(', ')
}
