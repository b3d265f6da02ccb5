/**
 * Printing data in the format the user chose: `text` (tables and sentences for people), `json`
 * (stable keys, two-space indent, parseable) or `yaml`.
 */
import { stringify } from 'yaml'
import type { Env } from '../config/env.ts'
import { UsageError } from './usage-error.ts'

export const OUTPUT_FORMATS = ['text', 'json', 'yaml'] as const
export type OutputFormat = (typeof OUTPUT_FORMATS)[number]

/**
 * `--format` when given, else `CREDBROKER_FORMAT`, else `fallback`.
 * @throws UsageError for a format that is not text, json or yaml.
 */
export function chooseFormat(flag: string | undefined, env: Env, fallback: OutputFormat): OutputFormat {
  const chosen = flag ?? env.CREDBROKER_FORMAT?.trim() ?? ''
  if (chosen === '') return fallback
  if (!(OUTPUT_FORMATS as readonly string[]).includes(chosen)) {
    const source = flag === undefined ? 'CREDBROKER_FORMAT' : '--format'
    throw new UsageError(`${source}: must be one of ${OUTPUT_FORMATS.join(', ')} (got "${chosen}")`)
  }
  return chosen as OutputFormat
}

/**
 * The text for `data` in `format`; `text` renders with `asText`. Empty text prints nothing (an
 * empty list in text mode is an empty output, so `| wc -l` counts rows).
 */
export function renderData(format: OutputFormat, data: unknown, asText: () => string): string {
  switch (format) {
    case 'json':
      return JSON.stringify(data, null, 2)
    case 'yaml':
      return stringify(data, { lineWidth: 0 }).trimEnd()
    case 'text':
      return asText()
  }
}
