/**
 * docs/CLI.md is generated from the command tree (lib/cli/docs.ts): this test fails when the file
 * is stale. `npm run docs:cli` rewrites it.
 */
import assert from 'node:assert/strict'
import { readFileSync, writeFileSync } from 'node:fs'
import { describe, it } from 'node:test'
import { cliReference } from '../../lib/cli/docs.ts'

const FILE = 'docs/CLI.md'

describe('docs/CLI.md', () => {
  it('ok/matches the command tree', () => {
    const expected = `${cliReference()}\n`
    if (process.env.UPDATE_CLI_DOCS === '1') writeFileSync(FILE, expected)
    let actual = ''
    try {
      actual = readFileSync(FILE, 'utf8')
    } catch {}
    assert.ok(actual === expected, `${FILE} is stale: run npm run docs:cli`)
  })
})
