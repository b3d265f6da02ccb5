/** Reading and validating JSON request bodies. */
import type * as z from 'zod'
import { BadRequestError } from '../errors.ts'

/** Parses `bytes` as JSON and validates it; errors name the field. */
export function parseJsonBody<T>(bytes: Uint8Array, schema: z.ZodType<T>): T {
  let value: unknown
  try {
    value = JSON.parse(Buffer.from(bytes).toString('utf8'))
  } catch {
    throw new BadRequestError('the request body must be JSON')
  }
  const result = schema.safeParse(value)
  if (!result.success) {
    const issue = result.error.issues[0]
    const path = issue?.path.map(String).join('.') ?? ''
    const what =
      issue?.code === 'unrecognized_keys'
        ? `unknown field ${issue.keys.join(', ')}`
        : (issue?.message ?? 'invalid')
    throw new BadRequestError(path ? `${path}: ${what}` : what)
  }
  return result.data
}
