/**
 * The `it` of a conformance suite: a test runs unless the adapter lists it in `skip`, with the
 * reason shown in the report (an adapter opts out explicitly, never silently).
 */
import { it } from 'node:test'

export function skippableTest(skip: Readonly<Record<string, string>> | undefined) {
  return (title: string, fn: () => Promise<void>): void => {
    const reason = skip?.[title]
    if (reason === undefined) it(title, fn)
    else it(title, { skip: reason }, fn)
  }
}
