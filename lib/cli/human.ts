/**
 * Durations and instants for people: `12h`, `3h 20m`, `in 3h 20m`, `5m ago`. Text output only;
 * JSON and YAML keep RFC 3339 instants and seconds.
 */

const UNITS: readonly [string, number][] = [
  ['d', 86_400_000],
  ['h', 3_600_000],
  ['m', 60_000],
  ['s', 1000],
]

/**
 * The largest unit and the next one, rounded to the smaller: `2d 3h`, `3h 20m`, `12h`, `45s`;
 * under half a second: `0s`. (11h 59m 59.9s is `12h`, not `11h 59m`.)
 */
export function humanSpan(ms: number): string {
  const abs = Math.abs(ms)
  const top = UNITS.findIndex(([, size]) => abs >= size)
  if (top < 0) return abs >= 500 ? '1s' : '0s'
  const step = (UNITS[Math.min(top + 1, UNITS.length - 1)] as [string, number])[1]
  let rest = Math.round(abs / step) * step
  const parts: string[] = []
  for (const [unit, size] of UNITS) {
    const n = Math.floor(rest / size)
    rest -= n * size
    if (n > 0) parts.push(`${n}${unit}`)
    else if (parts.length > 0) break
    if (parts.length === 2) break
  }
  return parts.join(' ')
}

/** `in 3h 20m`, `5m ago` or `now`, relative to `now`. */
export function relativeTime(at: Date, now: Date): string {
  const delta = at.getTime() - now.getTime()
  if (Math.abs(delta) < 1000) return 'now'
  return delta > 0 ? `in ${humanSpan(delta)}` : `${humanSpan(delta)} ago`
}

/** `2026-11-22 20:33 UTC (in 3h 20m)`; `-` for an absent or unreadable instant. */
export function humanTime(iso: string | undefined, now: Date): string {
  if (iso === undefined) return '-'
  const at = new Date(iso)
  if (Number.isNaN(at.getTime())) return iso
  return `${at.toISOString().slice(0, 16).replace('T', ' ')} UTC (${relativeTime(at, now)})`
}
