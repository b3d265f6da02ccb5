/**
 * `credbroker version`: the package version, Node's version, and the commit when known
 * (`CREDBROKER_COMMIT` as set by a build, else the checkout's `.git/HEAD`).
 */
import { readFileSync } from 'node:fs'
import { join } from 'node:path'
import type { Invocation } from '../command.ts'
import { renderData } from '../output.ts'

/** The repository root: two levels above lib/cli/commands. */
const ROOT = join(import.meta.dirname, '..', '..', '..')

export interface VersionInfo {
  readonly version: string
  readonly node: string
  readonly commit: string | null
}

export function versionInfo(env: Readonly<Record<string, string | undefined>>): VersionInfo {
  const pkg = JSON.parse(readFileSync(join(ROOT, 'package.json'), 'utf8')) as { version: string }
  return { version: pkg.version, node: process.version, commit: env.CREDBROKER_COMMIT?.trim() || gitCommit() }
}

/** HEAD's commit from `.git` without running git; null outside a checkout. */
function gitCommit(): string | null {
  try {
    const head = readFileSync(join(ROOT, '.git', 'HEAD'), 'utf8').trim()
    if (!head.startsWith('ref: ')) return head
    const ref = head.slice(5)
    try {
      return readFileSync(join(ROOT, '.git', ref), 'utf8').trim()
    } catch {
      const packed = readFileSync(join(ROOT, '.git', 'packed-refs'), 'utf8')
      return (
        packed
          .split('\n')
          .find((l) => l.endsWith(` ${ref}`))
          ?.split(' ')[0] ?? null
      )
    }
  } catch {
    return null
  }
}

export async function runVersion(inv: Invocation): Promise<number> {
  const info = versionInfo(inv.io.env)
  inv.io.stdout(
    renderData(
      inv.format,
      info,
      () =>
        `credbroker ${info.version} (node ${info.node}${info.commit ? `, commit ${info.commit.slice(0, 12)}` : ''})`,
    ),
  )
  return 0
}
