/**
 * `--help` text, derived from the command tree: a one-line description, usage, arguments,
 * options, examples; for groups, their subcommands. The same declarations produce docs/CLI.md.
 */
import type { FlagSpec } from './args.ts'
import type { Command, Group, Node } from './command.ts'
import { flagsOf } from './common-flags.ts'

export const PRECEDENCE = [
  'Settings come from flags first, then the environment (CREDBROKER_*), then files:',
  "  auth service: --auth-server, CREDBROKER_AUTH_SERVER, the identity directory's auth_server file",
  "                (the bot: its config file's auth_server)",
  '  admin identity: --identity, CREDBROKER_IDENTITY, ~/.credbroker/identity (where login writes)',
  '  output format: --format, CREDBROKER_FORMAT',
  '  local state: CREDBROKER_STORE, CREDBROKER_STATE_DIR (default .credbroker), CREDBROKER_LISTEN',
  'Without an auth service and identity, admin commands act on the local state store.',
].join('\n')

export const EXIT_CODES = [
  'Exit codes: 0 ok, 1 failure (error [CODE]: message), 2 usage (bad option or option value,',
  'missing argument, unknown command), 3 internal error.',
].join('\n')

/** `<name> [<ref>]` for the usage line. */
export function argsUsage(cmd: Command): string {
  return (cmd.args ?? []).map((a) => (a.required === false ? `[<${a.name}>]` : `<${a.name}>`)).join(' ')
}

export function flagLabel(name: string, spec: FlagSpec): string {
  const long = `--${name}${spec.type === 'boolean' ? '' : ` ${spec.value ?? 'VALUE'}`}`
  return spec.short ? `-${spec.short}, ${long}` : `    ${long}`
}

export function commandHelp(path: readonly string[], cmd: Command): string {
  const flags = Object.entries(flagsOf(cmd)).filter(([, s]) => !s.hidden)
  const lines = [
    `credbroker ${path.join(' ')} — ${cmd.summary}`,
    '',
    `Usage: credbroker ${[...path, argsUsage(cmd)].filter((p) => p !== '').join(' ')}${flags.length > 1 ? ' [options]' : ''}`,
  ]
  if (cmd.details) lines.push('', cmd.details)
  if (cmd.args?.length) {
    lines.push('', 'Arguments:', ...columns(cmd.args.map((a) => [`<${a.name}>`, a.description])))
  }
  lines.push(
    '',
    'Options:',
    ...columns(flags.map(([name, spec]) => [flagLabel(name, spec), spec.description])),
  )
  lines.push('', cmd.examples.length > 1 ? 'Examples:' : 'Example:', ...cmd.examples.map((e) => `  ${e}`))
  if (cmd.remote) lines.push('', PRECEDENCE)
  return lines.join('\n')
}

export function groupHelp(path: readonly string[], group: Group): string {
  const title = path.length === 0 ? 'credbroker' : `credbroker ${path.join(' ')}`
  const lines = [
    `${title} — ${group.summary}`,
    '',
    `Usage: ${title} <command> [options]`,
    '',
    'Commands:',
    ...columns(listed(group).map(([sub, node]) => [sub, node.summary])),
    '',
    `Run "credbroker help ${[...path, '<command>'].join(' ')}" or "${title} <command> --help" for details.`,
  ]
  if (path.length === 0) lines.push('', PRECEDENCE, '', EXIT_CODES)
  return lines.join('\n')
}

/** Every visible command under `group`, as `[relative path, node]`, groups expanded. */
export function listed(group: Group, prefix = ''): [string, Node][] {
  return group.children.flatMap((child): [string, Node][] => {
    const name = `${prefix}${child.name}`
    if (child.kind === 'group') return listed(child, `${name} `)
    return child.hidden ? [] : [[name, child]]
  })
}

function columns(rows: readonly (readonly [string, string])[]): string[] {
  const width = Math.min(32, Math.max(0, ...rows.map(([left]) => left.length)))
  return rows.map(([left, right]) =>
    left.length > width ? `  ${left}\n  ${' '.repeat(width)}  ${right}` : `  ${left.padEnd(width)}  ${right}`,
  )
}
