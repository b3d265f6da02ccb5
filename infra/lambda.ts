/**
 * What both functions share: the runtime, the architecture, the bundle format and the logs.
 */

/**
 * - `nodejs24.x`: supported by Lambda well beyond `nodejs22.x` (whose end of support comes in
 *   2027); the code needs Node 20 or later.
 * - `arm64`: cheaper per GB-second than x86_64, and nothing native is bundled.
 * - logs kept one month, as text (the logger writes `LEVEL message key=value` lines).
 * - `dev: false`: under `sst dev` the functions are deployed, not proxied to a laptop; the live
 *   proxy would add `appsync:*` on `*` to their roles.
 */
export const LAMBDA_DEFAULTS = {
  runtime: 'nodejs24.x',
  architecture: 'arm64',
  nodejs: { format: 'esm' },
  logging: { retention: '1 month', format: 'text' },
  dev: false,
} as const

/** A Function URL without its trailing `/`: the bot appends `/v1/…` paths to it. */
export function baseUrl(url: string): string {
  return url.replace(/\/+$/, '')
}
