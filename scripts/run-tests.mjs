#!/usr/bin/env node
// Runs every test/**/*.test.ts file, each in a process of its own (TypeScript through tsx), and
// sums their results.
//
// Usage: npm test [-- <path filter>...]   e.g. npm test -- store dynamodb
//
// Why not `node --test <files>`: that parent runner reads each child's results through a framed
// stdout protocol, and under CI load it has lost the tail of a file's frames and then waited for
// them until the file's timeout, reporting a hang with no test named (a file that takes 2 s alone
// was reported as timed out after 120 s). Here each file runs its tests in-process with the spec
// reporter, so the output is exactly what the file printed, and a file that hangs is killed by a
// watchdog with its partial output shown: the last test printed is the one before the hang.
//
// Environment:
//   CREDBROKER_TEST_CONCURRENCY   files run at once (default: cores - 1, at least 1)
//   CREDBROKER_TEST_FILE_TIMEOUT  seconds a file may run before it is killed (default 300)
import { spawn } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { availableParallelism } from 'node:os'
import { join, relative } from 'node:path'

function collect(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return collect(path)
    return entry.name.endsWith('.test.ts') ? [relative(process.cwd(), path)] : []
  })
}

function positiveInt(name, fallback) {
  const raw = process.env[name]
  if (raw === undefined || raw === '') return fallback
  const value = Number(raw)
  if (!Number.isInteger(value) || value < 1) {
    console.error(`${name} must be a positive integer, got ${JSON.stringify(raw)}`)
    process.exit(2)
  }
  return value
}

const filters = process.argv.slice(2)
const files = collect('test')
  .filter((f) => filters.length === 0 || filters.some((needle) => f.includes(needle)))
  .sort()
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`)
  process.exit(1)
}
const concurrency = positiveInt('CREDBROKER_TEST_CONCURRENCY', Math.max(1, availableParallelism() - 1))
const fileTimeoutMs = positiveInt('CREDBROKER_TEST_FILE_TIMEOUT', 300) * 1000

const COUNTERS = ['tests', 'pass', 'fail', 'cancelled', 'skipped', 'todo']
const running = new Set()

/** Runs one file to completion (or to the watchdog) and returns its output and counters. */
function runFile(file) {
  return new Promise((resolve) => {
    const started = performance.now()
    // detached: the file gets a process group of its own, so the watchdog also kills the test
    // peers it started (moto, sshd) instead of leaving them behind.
    const child = spawn(process.execPath, ['--import', 'tsx', '--test-reporter=spec', file], {
      detached: true,
      stdio: ['ignore', 'pipe', 'pipe'],
      env: { ...process.env, NODE_NO_WARNINGS: '1' },
    })
    running.add(child)
    const chunks = []
    child.stdout.on('data', (c) => chunks.push(c))
    child.stderr.on('data', (c) => chunks.push(c))
    let timedOut = false
    const watchdog = setTimeout(() => {
      timedOut = true
      killGroup(child)
    }, fileTimeoutMs)
    child.on('close', (code, signal) => {
      clearTimeout(watchdog)
      running.delete(child)
      const output = Buffer.concat(chunks).toString('utf8')
      const counters = Object.fromEntries(
        COUNTERS.map((name) => [name, Number(new RegExp(`^ℹ ${name} (\\d+)$`, 'm').exec(output)?.[1] ?? 0)]),
      )
      const summarised = /^ℹ tests \d+$/m.test(output)
      let problem
      if (timedOut)
        problem = `killed after ${fileTimeoutMs / 1000} s: the test after the last one printed hangs`
      else if (signal) problem = `exited on ${signal}`
      else if (!summarised) problem = `exited with code ${code} before reporting a summary`
      else if (code !== 0) problem = `exited with code ${code}`
      resolve({ file, output, counters, problem, ms: performance.now() - started })
    })
  })
}

function killGroup(child) {
  try {
    process.kill(-child.pid, 'SIGKILL')
  } catch {
    // Already gone.
  }
}

for (const signal of ['SIGINT', 'SIGTERM']) {
  process.on(signal, () => {
    for (const child of running) killGroup(child)
    process.exit(130)
  })
}

const started = performance.now()
const results = []
const queue = [...files]
async function worker() {
  for (let file = queue.shift(); file !== undefined; file = queue.shift()) {
    const result = await runFile(file)
    results.push(result)
    const status = result.problem ? `✖ ${result.problem}` : '✔'
    process.stdout.write(`\n━━ ${file} ${status} (${Math.round(result.ms)} ms)\n${result.output}`)
  }
}
await Promise.all(Array.from({ length: Math.min(concurrency, files.length) }, worker))

const totals = Object.fromEntries(COUNTERS.map((name) => [name, 0]))
for (const { counters } of results) for (const name of COUNTERS) totals[name] += counters[name]
const failed = results.filter((r) => r.problem).sort((a, b) => a.file.localeCompare(b.file))
console.log(`\n━━ ${files.length} files, ${concurrency} at a time`)
for (const name of COUNTERS) console.log(`ℹ ${name} ${totals[name]}`)
console.log(`ℹ duration_ms ${Math.round(performance.now() - started)}`)
if (failed.length > 0) {
  console.log(`\n✖ ${failed.length} failing file(s):`)
  for (const { file, problem } of failed) console.log(`  ${file}: ${problem}`)
  process.exit(1)
}
