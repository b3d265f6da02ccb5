/**
 * Which hosts an IAM join may name as its STS endpoint. The server sends the caller's signed
 * request to this host and believes the answer, so this check is what stops a "fake STS" (the
 * caller picking a host it controls) and server-side request forgery: it is security-critical.
 *
 * Accepted, case-insensitively, with no trailing dot and never an IP literal:
 * - `sts.amazonaws.com` (the global endpoint);
 * - `sts.<region>.amazonaws.com` and `sts-fips.<region>.amazonaws.com` for a region of the `aws`
 *   or `aws-us-gov` partition in {@link KNOWN_REGIONS};
 * - `sts.<region>.amazonaws.com.cn` for a region of the `aws-cn` partition;
 * - hosts named exactly in the configured extra allow-list (for private endpoints or tests).
 */
import { isIP } from 'node:net'

/** Regions of the `aws` partition. */
const AWS_REGIONS = [
  'af-south-1',
  'ap-east-1',
  'ap-east-2',
  'ap-northeast-1',
  'ap-northeast-2',
  'ap-northeast-3',
  'ap-south-1',
  'ap-south-2',
  'ap-southeast-1',
  'ap-southeast-2',
  'ap-southeast-3',
  'ap-southeast-4',
  'ap-southeast-5',
  'ap-southeast-6',
  'ap-southeast-7',
  'ca-central-1',
  'ca-west-1',
  'eu-central-1',
  'eu-central-2',
  'eu-north-1',
  'eu-south-1',
  'eu-south-2',
  'eu-west-1',
  'eu-west-2',
  'eu-west-3',
  'il-central-1',
  'me-central-1',
  'me-south-1',
  'mx-central-1',
  'sa-east-1',
  'us-east-1',
  'us-east-2',
  'us-west-1',
  'us-west-2',
] as const

/** Regions of the `aws-us-gov` partition (same DNS suffix as `aws`). */
const US_GOV_REGIONS = ['us-gov-east-1', 'us-gov-west-1'] as const

/** Regions of the `aws-cn` partition (DNS suffix `amazonaws.com.cn`). */
const CN_REGIONS = ['cn-north-1', 'cn-northwest-1'] as const

/** Every region whose STS endpoints a join may name. */
export const KNOWN_REGIONS: ReadonlySet<string> = new Set([...AWS_REGIONS, ...US_GOV_REGIONS, ...CN_REGIONS])

const COM_REGIONS: ReadonlySet<string> = new Set([...AWS_REGIONS, ...US_GOV_REGIONS])
const CN_REGION_SET: ReadonlySet<string> = new Set(CN_REGIONS)

const REGIONAL = /^(sts|sts-fips)\.([a-z0-9-]+)\.amazonaws\.com$/
const REGIONAL_CN = /^sts\.([a-z0-9-]+)\.amazonaws\.com\.cn$/

/** `true` when `host` (a bare host name, no port) is an STS endpoint we accept. */
export function isAllowedStsHost(host: string, extraHosts: readonly string[] = []): boolean {
  if (host.length === 0 || host.length > 253) return false
  const name = host.toLowerCase()
  if (name.endsWith('.') || name.startsWith('[') || isIP(name) !== 0) return false
  if (extraHosts.some((extra) => extra.toLowerCase() === name)) return true
  if (name === 'sts.amazonaws.com') return true
  const regional = REGIONAL.exec(name)
  if (regional) return COM_REGIONS.has(regional[2] ?? '')
  const cn = REGIONAL_CN.exec(name)
  if (cn) return CN_REGION_SET.has(cn[1] ?? '')
  return false
}
