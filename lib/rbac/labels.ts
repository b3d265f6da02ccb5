/**
 * Label selectors: which registered resources a role's `*_labels` condition covers.
 */
import type { LabelSelector, Labels } from '../resources/types.ts'
import { matchAnyGlob } from './glob.ts'

/** The selector key that stands for "any label key". */
export const ANY_LABEL = '*'

/**
 * Whether `selector` (from a role's `db_labels`, `kubernetes_labels`, `app_labels` or
 * `node_labels`) covers a resource carrying `labels`.
 *
 * The rules, in order:
 * 1. An empty selector (no keys) matches nothing. A role grants nothing by omission.
 * 2. Otherwise **every** key of the selector must be satisfied (keys are ANDed); within a key, the
 *    value globs are ORed. A key with an empty list of globs is never satisfied.
 * 3. A key other than `*` is satisfied when the resource has a label with exactly that key
 *    (keys are not globs and are case-sensitive) whose value matches any of the key's globs
 *    (`*` matches any run of characters; see `matchGlob` in `glob.ts`).
 * 4. The key `*` stands for any label key:
 *    - if one of its globs is exactly `*`, it is satisfied unconditionally, even by a resource
 *      with no labels at all, so `{'*': ['*']}` matches every resource;
 *    - otherwise it is satisfied when **some** label of the resource, whatever its key, has a
 *      value matching one of the globs.
 *
 * Unlike Teleport, values are never regular expressions: `^prod$` is the literal string.
 *
 * @example
 * matchLabels({ '*': ['*'] }, {})                              // true
 * matchLabels({ env: ['dev-*'] }, { env: 'dev-eu', team: 'a' }) // true
 * matchLabels({ env: ['dev'], team: ['a'] }, { env: 'dev' })   // false: `team` is missing
 * matchLabels({}, { env: 'dev' })                              // false: empty selector
 */
export function matchLabels(selector: LabelSelector, labels: Labels): boolean {
  const keys = Object.keys(selector)
  if (keys.length === 0) return false
  return keys.every((key) => keySatisfied(key, selector[key] ?? [], labels))
}

function keySatisfied(key: string, globs: readonly string[], labels: Labels): boolean {
  if (key === ANY_LABEL) {
    if (hasStar(globs)) return true
    return Object.values(labels).some((value) => matchAnyGlob(globs, value))
  }
  if (!Object.hasOwn(labels, key)) return false
  const value = labels[key]
  return value !== undefined && matchAnyGlob(globs, value)
}

function hasStar(globs: readonly string[]): boolean {
  return globs.includes('*')
}
