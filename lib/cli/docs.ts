/**
 * docs/CLI.md, generated from the command tree so it cannot drift from `--help`;
 * test/cli/docs.test.ts fails when the file is stale (and rewrites it with UPDATE_CLI_DOCS=1).
 */
import type { Command, Group } from './command.ts'
import { flagsOf } from './common-flags.ts'
import { argsUsage, EXIT_CODES, flagLabel, PRECEDENCE } from './help.ts'
import { COMMAND_TREE } from './tree.ts'

export function cliReference(root: Group = COMMAND_TREE): string {
  const commands = walk(root, [])
  return [
    '# The credbroker command line',
    '',
    '<!-- Generated from lib/cli/tree.ts by test/cli/docs.test.ts (UPDATE_CLI_DOCS=1 rewrites it). Do not edit. -->',
    '',
    '`credbroker <command> [options]`; `credbroker help <command>` or `credbroker <command> --help`',
    'prints the same help as this page.',
    '',
    '## Conventions',
    '',
    '- **Output**: commands that print data take `--format text|json|yaml` (default `text`; `get`',
    '  defaults to `yaml`). Text mode prints tables and human times (`2026-11-23 12:16 UTC (in 12h)`);',
    '  JSON and YAML keep RFC 3339 instants and are stable for scripts.',
    '- **Errors**: one line `error [CODE]: message` on stderr, then `hint: …` where one helps.',
    '- **Progress**: long operations (`start`, `bot oneshot`, `auth start|bootstrap`) print progress',
    '  lines on stderr only when it is a terminal.',
    '- **Local or remote**: admin commands (bots, tokens, get/create/apply/rm, locks, ca) act on the',
    "  local state store, or with `--auth-server URL --identity DIR` through the auth service's admin",
    "  API, each request signed with the identity's key (proof of possession). Both print the same",
    '  and record the same audit events (role and lock changes, under `audit/` in the state). Only',
    '  the auth service publishes them to its event sink, which triggers bot reissues: after a change',
    '  on the local state, bots pick it up at their next scheduled run.',
    '',
    '```',
    PRECEDENCE,
    '',
    EXIT_CODES,
    '```',
    '',
    '## Commands',
    '',
    '| Command | What it does |',
    '|---|---|',
    ...commands.map(([path, cmd]) => `| [\`${path}\`](#${anchor(path)}) | ${cmd.summary} |`),
    '',
    ...commands.flatMap(([path, cmd]) => section(path, cmd)),
  ].join('\n')
}

function walk(group: Group, prefix: readonly string[]): [string, Command][] {
  return group.children.flatMap((child): [string, Command][] => {
    const path = [...prefix, child.name]
    if (child.kind === 'group') {
      const fallback: [string, Command][] = child.fallback ? [[path.join(' '), child.fallback]] : []
      return [...walk(child, path), ...fallback]
    }
    return [[path.join(' '), child]]
  })
}

function section(path: string, cmd: Command): string[] {
  const flags = Object.entries(flagsOf(cmd)).filter(([, s]) => !s.hidden)
  const usage = ['credbroker', path, argsUsage(cmd)].filter((p) => p !== '').join(' ')
  return [
    `### credbroker ${path}`,
    '',
    `${capital(cmd.summary)}.${cmd.hidden ? ' (Kept for older command lines.)' : ''}`,
    '',
    '```',
    `${usage}${flags.length > 1 ? ' [options]' : ''}`,
    '```',
    ...(cmd.details ? ['', cmd.details.replace(/\n/g, ' ').replace(/</g, '&lt;')] : []),
    ...(cmd.args?.length
      ? ['', '| Argument | |', '|---|---|', ...cmd.args.map((a) => `| \`<${a.name}>\` | ${a.description} |`)]
      : []),
    '',
    '| Option | |',
    '|---|---|',
    ...flags.map(
      ([name, spec]) => `| \`${flagLabel(name, spec).trim()}\` | ${spec.description.replace(/\|/g, '\\|')} |`,
    ),
    '',
    cmd.examples.length > 1 ? 'Examples:' : 'Example:',
    '',
    '```sh',
    ...cmd.examples,
    '```',
    '',
  ]
}

function anchor(path: string): string {
  return `credbroker-${path.replace(/ /g, '-')}`
}

function capital(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1)
}
