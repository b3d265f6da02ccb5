import assert from 'node:assert/strict'
import { describe, it } from 'node:test'
import { matchLabels } from '../../../lib/rbac/labels.ts'
import type { LabelSelector, Labels } from '../../../lib/resources/types.ts'

describe('matchLabels', () => {
  const cases: Array<[name: string, selector: LabelSelector, labels: Labels, expected: boolean]> = [
    ['ok/wildcard matches labelled resource', { '*': ['*'] }, { env: 'dev' }, true],
    ['ok/wildcard matches resource without labels', { '*': ['*'] }, {}, true],
    ['ok/exact key and value', { env: ['dev'] }, { env: 'dev', team: 'a' }, true],
    ['ok/value glob', { env: ['dev-*'] }, { env: 'dev-eu-1' }, true],
    ['ok/value globs are ORed', { env: ['prod', 'dev-*'] }, { env: 'dev-1' }, true],
    ['ok/keys are ANDed', { env: ['dev'], team: ['db*'] }, { env: 'dev', team: 'dba' }, true],
    ['ok/any key with a value glob', { '*': ['dev'] }, { stage: 'dev' }, true],
    ['ok/any key with star among globs', { '*': ['x', '*'] }, {}, true],
    ['ok/wildcard combined with a key', { '*': ['*'], env: ['dev'] }, { env: 'dev' }, true],
    ['ok/star value needs the key', { env: ['*'] }, { env: '' }, true],
    ['fail/empty selector matches nothing', {}, { env: 'dev' }, false],
    ['fail/empty selector on unlabelled resource', {}, {}, false],
    ['fail/value mismatch', { env: ['prod'] }, { env: 'dev' }, false],
    ['fail/value glob mismatch', { env: ['dev-*'] }, { env: 'prod-1' }, false],
    ['fail/glob is anchored', { env: ['dev'] }, { env: 'dev-1' }, false],
    ['fail/missing key', { env: ['dev'], team: ['a'] }, { env: 'dev' }, false],
    ['fail/star value still needs the key', { env: ['*'] }, { team: 'a' }, false],
    ['fail/key is not a glob', { 'env*': ['dev'] }, { env1: 'dev' }, false],
    ['fail/keys are case-sensitive', { Env: ['dev'] }, { env: 'dev' }, false],
    ['fail/empty value list', { env: [] }, { env: 'dev' }, false],
    ['fail/any key but no value matches', { '*': ['prod'] }, { env: 'dev', team: 'a' }, false],
    ['fail/any key on unlabelled resource', { '*': ['dev'] }, {}, false],
    ['fail/wildcard combined with a failing key', { '*': ['*'], env: ['prod'] }, { env: 'dev' }, false],
    ['fail/values are not regular expressions', { env: ['^dev$'] }, { env: 'dev' }, false],
    ['fail/inherited keys do not count', { toString: ['*'] }, {}, false],
  ]
  for (const [name, selector, labels, expected] of cases) {
    it(name, () => assert.equal(matchLabels(selector, labels), expected))
  }
})
