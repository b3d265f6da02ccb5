/**
 * Table-driven helpers for validator tests: `ok/…` cases must validate (and may check the
 * canonical result), `fail/…` cases must throw a BrokerError with the given code and field.
 */
import assert from 'node:assert/strict'
import { it } from 'node:test'
import { type BrokerErrorCode, InvalidResourceError, isBrokerError } from '../../../lib/errors.ts'
import { validateResource } from '../../../lib/resources/parse.ts'
import type { Resource, ResourceKind } from '../../../lib/resources/types.ts'

export interface Case {
  /** `ok/…` or `fail/…`. */
  readonly name: string
  readonly doc: unknown
  /** For `fail/…`: the expected `field` (required) and message pattern (optional). */
  readonly field?: string
  readonly message?: RegExp
  readonly code?: BrokerErrorCode
  /** For `ok/…`: extra assertions on the canonical document. */
  readonly check?: (resource: Resource) => void
}

/** A minimal document of `kind` with `spec`; `metadata` defaults to `{ name: 'example' }`. */
export function doc(kind: ResourceKind | string, spec: unknown, metadata: object = { name: 'example' }) {
  return { kind, version: 'v1', metadata, spec }
}

/** Asserts that `fn` throws a BrokerError with `code` and, for invalid resources, `field`. */
export function assertFails(
  fn: () => unknown,
  expected: { code?: BrokerErrorCode; field?: string; message?: RegExp },
): void {
  assert.throws(fn, (err: unknown) => {
    assert.ok(isBrokerError(err), `expected a BrokerError, got ${String(err)}`)
    assert.equal(err.code, expected.code ?? 'ERR_INVALID_RESOURCE', err.message)
    if (expected.field !== undefined) {
      assert.ok(err instanceof InvalidResourceError)
      assert.equal(err.field, expected.field, err.message)
    }
    if (expected.message) assert.match(err.message, expected.message)
    return true
  })
}

/** Registers one `it` per case. */
export function runCases(cases: readonly Case[]): void {
  for (const c of cases) {
    it(c.name, () => {
      if (c.name.startsWith('ok/')) {
        const resource = validateResource(c.doc)
        c.check?.(resource)
        // Canonical documents are fixed points: validating one again changes nothing.
        assert.deepEqual(validateResource(resource), resource)
      } else {
        assert.ok(c.name.startsWith('fail/'), `case names start with ok/ or fail/: ${c.name}`)
        assert.notEqual(c.field, undefined, `fail case ${c.name} must name the field`)
        const expected = {
          field: c.field as string,
          ...(c.code && { code: c.code }),
          ...(c.message && { message: c.message }),
        }
        assertFails(() => validateResource(c.doc), expected)
      }
    })
  }
}
