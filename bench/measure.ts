/**
 * A small, honest micro-benchmark loop: runs an async operation sequentially for a fixed time
 * after a warm-up, and reports throughput and latency percentiles.
 */
import { performance } from 'node:perf_hooks'

export interface Measurement {
  name: string
  ops: number
  seconds: number
  perSecond: number
  p50Us: number
  p99Us: number
}

export interface MeasureOptions {
  /** Measured time per operation kind. */
  seconds?: number
  /** Unmeasured iterations first, to warm caches and the JIT. */
  warmup?: number
}

/** Runs `op(i)` sequentially (i counts from 0) and measures it. */
export async function measure(
  name: string,
  op: (i: number) => Promise<unknown> | unknown,
  { seconds = 2, warmup = 200 }: MeasureOptions = {},
): Promise<Measurement> {
  let i = 0
  for (; i < warmup; i++) await op(i)
  const samples: number[] = []
  const start = performance.now()
  const deadline = start + seconds * 1000
  let now = start
  while (now < deadline) {
    const t0 = now
    await op(i++)
    now = performance.now()
    samples.push(now - t0)
  }
  const elapsed = (now - start) / 1000
  samples.sort((a, b) => a - b)
  const pct = (p: number) =>
    Math.round((samples[Math.min(samples.length - 1, Math.floor(samples.length * p))] ?? 0) * 1000)
  return {
    name,
    ops: samples.length,
    seconds: elapsed,
    perSecond: samples.length / elapsed,
    p50Us: pct(0.5),
    p99Us: pct(0.99),
  }
}

/** Renders measurements as a Markdown table. */
export function toMarkdownTable(rows: readonly Measurement[]): string {
  const lines = ['| operation | ops/s | p50 µs | p99 µs |', '|---|---:|---:|---:|']
  for (const r of rows)
    lines.push(`| ${r.name} | ${Math.round(r.perSecond).toLocaleString('en-US')} | ${r.p50Us} | ${r.p99Us} |`)
  return lines.join('\n')
}
