/**
 * `--help` for every command of the tree, through the executable: exit 0, the one-line
 * description first, usage, options, and at least one example that runs this very command.
 * `credbroker help <command>` prints the same text; a group's help lists its commands.
 */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { CA_TYPES } from '../../lib/ca/authorities.ts'
import { ROTATION_PHASES } from '../../lib/ca/rotation-phases.ts'
import type { Command, Group } from '../../lib/cli/command.ts'
import { CA_TYPE_LIST, ROTATION_PHASE_LIST } from '../../lib/cli/specs/ca.ts'
import { KIND_LIST } from '../../lib/cli/specs/resources.ts'
import { COMMAND_TREE } from '../../lib/cli/tree.ts'
import { RESOURCE_KINDS } from '../../lib/resources/schemas.ts'
import { inBatches, runCli } from './run-cli.ts'

function commands(group: Group, prefix: readonly string[] = []): [string[], Command][] {
  return group.children.flatMap((child): [string[], Command][] =>
    child.kind === 'group'
      ? commands(child, [...prefix, child.name])
      : child.hidden
        ? []
        : [[[...prefix, child.name], child]],
  )
}

describe('credbroker --help', () => {
  const all = commands(COMMAND_TREE)

  it('ok/the tree covers the command line issue 11 asks for', () => {
    const paths = all.map(([path]) => path.join(' '))
    for (const wanted of [
      'start',
      'auth start',
      'auth bootstrap',
      'bot start',
      'bot oneshot',
      'bots add',
      'bots rm',
      'bots ls',
      'bots update',
      'bots instances add',
      'bots instances ls',
      'bots instances show',
      'tokens add',
      'tokens ls',
      'tokens rm',
      'create',
      'apply',
      'get',
      'rm',
      'locks ls',
      'locks add',
      'locks rm',
      'ca status',
      'ca rotate',
      'fetch',
      'doctor',
      'kube credentials',
      'status',
      'version',
      'login',
    ]) {
      assert.ok(paths.includes(wanted), `missing command: ${wanted}`)
    }
  })

  it('ok/the lists written into the help are the ones the code uses', () => {
    assert.equal(KIND_LIST, RESOURCE_KINDS.join(', '))
    assert.equal(CA_TYPE_LIST, CA_TYPES.join(', '))
    assert.equal(ROTATION_PHASE_LIST, ROTATION_PHASES.join(', '))
  })

  it('ok/every command prints its help with a description, usage, options and an example; exit 0', async () => {
    const results = await inBatches(all, 3, async ([path, cmd]) => ({
      path,
      cmd,
      res: await runCli([...path, '--help']),
    }))
    for (const { path, cmd, res } of results) {
      const name = `credbroker ${path.join(' ')}`
      assert.equal(res.code, 0, `${name} --help: ${res.stderr}`)
      assert.equal(res.stderr, '', name)
      const lines = res.stdout.split('\n')
      assert.equal(lines[0], `${name} — ${cmd.summary}`)
      assert.match(res.stdout, new RegExp(`^Usage: ${name}\\b`, 'm'), name)
      assert.match(res.stdout, /^Options:\n(.*\n)*\s+-h, --help\s+show this help$/m, name)
      const examples = res.stdout.slice(res.stdout.search(/^Examples?:$/m))
      assert.match(examples, new RegExp(`^\\s+(\\S+=\\S+ )*${name}( |$)`, 'm'), `${name}: no example`)
    }
  })

  it('ok/credbroker help <command> prints the same as <command> --help', async () => {
    const [viaHelp, viaFlag] = await Promise.all([
      runCli(['help', 'bots', 'instances', 'add']),
      runCli(['bots', 'instances', 'add', '--help']),
    ])
    assert.equal(viaHelp.code, 0)
    assert.equal(viaHelp.stdout, viaFlag.stdout)
  })

  it('ok/a group lists its commands; without a command it is a usage error (exit 2, help on stderr)', async () => {
    const [help, bare, root] = await Promise.all([
      runCli(['help', 'bots']),
      runCli(['locks']),
      runCli(['--help']),
    ])
    assert.equal(help.code, 0)
    assert.match(help.stdout, /^ {2}instances show\s+one bot instance/m)
    assert.equal(bare.code, 2)
    assert.equal(bare.stdout, '')
    assert.match(bare.stderr, /^credbroker locks — /)
    assert.equal(root.code, 0)
    assert.match(root.stdout, /^Exit codes: 0 ok, 1 failure/m)
    assert.match(root.stdout, /^Settings come from flags first, then the environment/m)
  })
})
