/** The option parser (lib/cli/args.ts), human durations (lib/cli/human.ts) and progress lines. */
import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { parseArgs } from '../../../lib/cli/args.ts'
import { humanSpan, humanTime, relativeTime } from '../../../lib/cli/human.ts'
import { progressFor } from '../../../lib/cli/progress.ts'

const SPEC = {
  file: { type: 'string', short: 'f', description: '' },
  manual: { type: 'boolean', description: '' },
  allow: { type: 'list', description: '' },
} as const

describe('parseArgs', () => {
  it('ok/values inline or next, short aliases, booleans with =true/=false, repeated lists, --', () => {
    const parsed = parseArgs(
      [
        'a',
        '--file=x.yaml',
        '-f',
        'y.yaml',
        '--manual=false',
        '--allow',
        'p',
        '--allow=q',
        '--',
        '--not-a-flag',
      ],
      SPEC,
    )
    assert.deepEqual(parsed, {
      positionals: ['a', '--not-a-flag'],
      flags: { file: 'y.yaml', manual: false, allow: ['p', 'q'] },
    })
    assert.deepEqual(parseArgs(['--manual'], SPEC).flags, { manual: true })
  })

  const bad: [string[], string][] = [
    [['--team', 'x'], 'unknown option --team'],
    [['--team=x'], 'unknown option --team'],
    [['-x'], 'unknown option -x'],
    [['--file'], 'option --file needs a value'],
    [['--manual=maybe'], 'option --manual takes no value, or =true / =false'],
  ]
  for (const [argv, message] of bad) {
    it(`fail/${argv.join(' ')}: a usage error (exit 2 in main)`, () => {
      assert.throws(
        () => parseArgs(argv, SPEC),
        (err: Error & { code?: string }) => {
          assert.equal(err.message, message)
          assert.equal(err.code, 'ERR_BAD_REQUEST')
          assert.equal(err.constructor.name, 'UsageError')
          return true
        },
      )
    })
  }
})

describe('human times', () => {
  it('ok/two units at most, rounded to the smaller', () => {
    assert.equal(humanSpan(0), '0s')
    assert.equal(humanSpan(45_000), '45s')
    assert.equal(humanSpan(12 * 3600_000 - 100), '12h')
    assert.equal(humanSpan(3 * 3600_000 + 20 * 60_000 + 10_000), '3h 20m')
    assert.equal(humanSpan(50 * 3600_000), '2d 2h')
  })
  it('ok/relative to now, and an instant in UTC with it', () => {
    const now = new Date(Date.UTC(2026, 10, 22, 12))
    assert.equal(relativeTime(new Date(now.getTime() + 3 * 3600_000 + 20 * 60_000), now), 'in 3h 20m')
    assert.equal(relativeTime(new Date(now.getTime() - 5 * 60_000), now), '5m ago')
    assert.equal(relativeTime(now, now), 'now')
    assert.equal(humanTime('2026-11-22T15:20:00Z', now), '2026-11-22 15:20 UTC (in 3h 20m)')
    assert.equal(humanTime(undefined, now), '-')
  })
})

describe('progress', () => {
  it('ok/lines on stderr on a terminal; nothing in a pipe', () => {
    const lines: string[] = []
    const io = { env: {}, cwd: '.', stdout: () => {}, stderr: (t: string) => lines.push(t) }
    progressFor({ ...io, interactive: true }).step('joining')
    progressFor(io).step('silent')
    assert.deepEqual(lines, ['… joining'])
  })
})
