/**
 * Logging as a dependency. Lines are `level message key=value …`, one per event, so they read well
 * in a terminal and parse in CloudWatch. Never pass secret material (keys, tokens, signatures) as
 * a field: the logger does not redact.
 */
export type LogLevel = 'debug' | 'info' | 'warn' | 'error'

export type LogFields = Readonly<
  Record<string, string | number | boolean | null | undefined | readonly string[]>
>

export interface Logger {
  debug(message: string, fields?: LogFields): void
  info(message: string, fields?: LogFields): void
  warn(message: string, fields?: LogFields): void
  error(message: string, fields?: LogFields): void
}

const RANK: Record<LogLevel, number> = { debug: 10, info: 20, warn: 30, error: 40 }

/** Formats one field value: bare when it is a simple token, JSON-quoted otherwise. */
function formatValue(value: LogFields[string]): string {
  if (Array.isArray(value)) return `[${value.join(',')}]`
  const text = String(value)
  return /^[\w.:/@+-]+$/.test(text) ? text : JSON.stringify(text)
}

/** Renders a log line without the timestamp. Exported for tests. */
export function formatLine(level: LogLevel, message: string, fields: LogFields = {}): string {
  const parts = [level.toUpperCase().padEnd(5), message]
  for (const [key, value] of Object.entries(fields)) {
    if (value !== undefined) parts.push(`${key}=${formatValue(value)}`)
  }
  return parts.join(' ')
}

/** A logger writing to a stream (stderr by default), dropping lines below `level`. */
export function createLogger(
  level: LogLevel = 'info',
  write: (line: string) => void = (line) => process.stderr.write(`${line}\n`),
): Logger {
  const emit = (at: LogLevel) => (message: string, fields?: LogFields) => {
    if (RANK[at] >= RANK[level]) write(formatLine(at, message, fields))
  }
  return { debug: emit('debug'), info: emit('info'), warn: emit('warn'), error: emit('error') }
}

/** A logger that drops everything (tests that do not assert on logs). */
export const silentLogger: Logger = Object.freeze({
  debug: () => {},
  info: () => {},
  warn: () => {},
  error: () => {},
})
