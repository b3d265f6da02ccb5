import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import {
  compileGlob,
  GLOB_CACHE_LIMIT,
  matchAnyGlob,
  matchArnGlob,
  matchGlob,
} from '../../../lib/rbac/glob.ts'

describe('matchGlob', () => {
  const cases: Array<[name: string, pattern: string, value: string, expected: boolean]> = [
    ['ok/exact', 'prod', 'prod', true],
    ['ok/star alone matches anything', '*', 'anything at all', true],
    ['ok/star alone matches empty', '*', '', true],
    ['ok/prefix', 'dev-*', 'dev-eu-1', true],
    ['ok/star matches the empty run', 'dev-*', 'dev-', true],
    ['ok/suffix', '*-prod', 'eu-prod', true],
    ['ok/infix', 'a*z', 'abcz', true],
    ['ok/several stars', 'a*b*c', 'a-b-c', true],
    ['ok/consecutive stars', 'a**b', 'ab', true],
    ['ok/star spans newlines', 'a*b', 'a\nb', true],
    ['ok/question mark is literal', 'a?', 'a?', true],
    ['ok/regex syntax is literal', 'db.prod(1)[x]{2}|^$+\\/', 'db.prod(1)[x]{2}|^$+\\/', true],
    ['ok/unicode', 'café-*', 'café-☕', true],
    ['fail/anchored at start', 'dev', 'xdev', false],
    ['fail/anchored at end', 'dev', 'devx', false],
    ['fail/prefix mismatch', 'dev-*', 'prod-1', false],
    ['fail/dot is not any character', 'db.prod', 'dbXprod', false],
    ['fail/question mark is not one character', 'a?', 'ab', false],
    ['fail/plus is not repetition', 'a+', 'aa', false],
    ['fail/alternation is literal', 'a|b', 'a', false],
    ['fail/case-sensitive', 'Prod', 'prod', false],
    ['fail/empty pattern matches only empty', '', 'x', false],
    ['fail/head and tail may not overlap', 'a*a', 'a', false],
    ['fail/head and tail may not overlap (longer)', 'ab*ba', 'aba', false],
    ['fail/inner segment must be present', '*a*', '', false],
    ['ok/inner segment found after a false start', 'x*abc*y', 'xababcy', true],
    ['fail/inner segments keep their order', 'x*b*a*y', 'xa-by', false],
  ]
  for (const [name, pattern, value, expected] of cases) {
    it(name, () => {
      assert.equal(matchGlob(pattern, value), expected)
      assert.equal(compileGlob(pattern)(value), expected)
    })
  }

  it('ok/empty pattern matches the empty string', () => {
    assert.equal(matchGlob('', ''), true)
  })

  it('ok/matchAnyGlob is an OR; an empty list matches nothing', () => {
    assert.equal(matchAnyGlob(['a', 'b*'], 'bee'), true)
    assert.equal(matchAnyGlob(['a', 'b*'], 'c'), false)
    assert.equal(matchAnyGlob([], 'a'), false)
  })

  it('ok/the cache stays bounded and evicted patterns still compile', () => {
    for (let i = 0; i < GLOB_CACHE_LIMIT + 50; i++) assert.equal(matchGlob(`p${i}-*`, `p${i}-x`), true)
    assert.equal(matchGlob('p0-*', 'p0-y'), true)
    assert.equal(compileGlob('same-*'), compileGlob('same-*'))
  })

  it('ok/many stars against a long value stay fast (no backtracking)', () => {
    const started = performance.now()
    assert.equal(matchGlob('*a*a*a*a*a*a*a*b', 'a'.repeat(4096)), false)
    assert.ok(performance.now() - started < 1000)
  })

  it('fail/a non-string pattern is a programmer error', () => {
    assert.throws(() => matchGlob(undefined as unknown as string, 'x'), TypeError)
  })
})

describe('matchArnGlob', () => {
  const base = 'arn:aws:sts::123456789012:assumed-role'
  const cases: Array<[name: string, pattern: string, value: string, expected: boolean]> = [
    ['ok/exact', `${base}/ci/job-1`, `${base}/ci/job-1`, true],
    ['ok/star across slashes', `${base}/*`, `${base}/ci/job-1`, true],
    ['ok/question mark is one character', `${base}/ci-?/*`, `${base}/ci-1/job`, true],
    ['ok/question mark is one code point', 'x?', 'x☕', true],
    ['ok/question marks only', '???', 'a☕c', true],
    ['fail/question mark needs a character', '?*', '', false],
    ['fail/question mark is not zero characters', `${base}/ci-?/*`, `${base}/ci-/job`, false],
    ['fail/question mark is not two characters', `${base}/ci-?/*`, `${base}/ci-12/job`, false],
    ['fail/other account', `${base}/*`, 'arn:aws:sts::210987654321:assumed-role/ci/job', false],
    ['fail/anchored', `${base}/ci`, `${base}/ci/job`, false],
    ['fail/dot is literal', 'arn:aws:iam::1.2', 'arn:aws:iam::1x2', false],
  ]
  for (const [name, pattern, value, expected] of cases) {
    it(name, () => assert.equal(matchArnGlob(pattern, value), expected))
  }

  it('ok/the two dialects keep separate caches', () => {
    assert.equal(matchGlob('a?', 'ab'), false)
    assert.equal(matchArnGlob('a?', 'ab'), true)
    assert.equal(matchGlob('a?', 'ab'), false)
  })
})
