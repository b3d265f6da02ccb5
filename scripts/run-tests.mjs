#!/usr/bin/env node
// Runs every test/**/*.test.ts file with Node's test runner (TypeScript through tsx).
// Node 20's --test does not expand globs itself, so the files are collected here.
// Usage: npm test [-- <path filter>...]   e.g. npm test -- store dynamodb
import { spawnSync } from 'node:child_process'
import { readdirSync } from 'node:fs'
import { join, relative } from 'node:path'

function collect(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) return collect(path)
    return entry.name.endsWith('.test.ts') ? [relative(process.cwd(), path)] : []
  })
}

const filters = process.argv.slice(2)
const files = collect('test')
  .filter((f) => filters.length === 0 || filters.some((needle) => f.includes(needle)))
  .sort()
if (files.length === 0) {
  console.error(`no test files match ${filters.join(' ')}`)
  process.exit(1)
}
const result = spawnSync(
  process.execPath,
  ['--import', 'tsx', '--test', '--test-reporter=spec', '--test-timeout=120000', ...files],
  {
    stdio: 'inherit',
    env: { ...process.env, NODE_NO_WARNINGS: '1' },
  },
)
process.exit(result.status ?? 1)
