/**
 * Reading STS's answer to a forwarded GetCallerIdentity: HTTP 200 and exactly one `Account` and
 * one `Arn`, from JSON (`Accept: application/json`, what real STS sends the bot's request) or XML
 * (what moto sends whatever the Accept header). The XML reader is a strict extractor for this one
 * document shape, not a general parser: one `GetCallerIdentityResponse` root, one
 * `GetCallerIdentityResult`, one `Account`, one `Arn`, no entities or CDATA in the values.
 */
import { IamJoinError } from '../../errors.ts'
import type { CallerIdentity } from './allow-rules.ts'

const ACCOUNT = /^\d{12}$/
const ARN = /^arn:[\x21-\x7e]{1,2044}$/

function invalid(message: string): IamJoinError {
  return new IamJoinError('ERR_IAM_STS_INVALID_RESPONSE', `STS answered ${message}`)
}

export function parseStsResponse(status: number, body: Uint8Array): CallerIdentity {
  if (status !== 200) {
    throw new IamJoinError('ERR_IAM_STS_REJECTED', `STS refused the signed request (HTTP ${status})`, {
      details: { status },
    })
  }
  let text: string
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(body).trim()
  } catch {
    throw invalid('with a body that is not UTF-8')
  }
  const found = text.startsWith('{') ? fromJson(text) : fromXml(text)
  if (!ACCOUNT.test(found.account)) throw invalid('with an Account that is not a 12-digit account id')
  if (!ARN.test(found.arn)) throw invalid('with an Arn that is not an ARN')
  return found
}

function fromJson(text: string): CallerIdentity {
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw invalid('with malformed JSON')
  }
  const result = field(field(value, 'GetCallerIdentityResponse'), 'GetCallerIdentityResult')
  const account = field(result, 'Account')
  const arn = field(result, 'Arn')
  if (typeof account !== 'string' || typeof arn !== 'string')
    throw invalid('JSON without GetCallerIdentityResponse.GetCallerIdentityResult.{Account,Arn}')
  return { account, arn }
}

function field(value: unknown, name: string): unknown {
  return typeof value === 'object' && value !== null && !Array.isArray(value) && Object.hasOwn(value, name)
    ? (value as Record<string, unknown>)[name]
    : undefined
}

const PROLOG = /^<\?xml[^?]*\?>\s*/
const ROOT = /^<GetCallerIdentityResponse(?:\s[^<>]*)?>([\s\S]*)<\/GetCallerIdentityResponse>$/

function fromXml(text: string): CallerIdentity {
  const doc = text.replace(PROLOG, '')
  if (/<!|<\?/.test(doc)) throw invalid('XML with a DOCTYPE, CDATA or processing instruction')
  const root = ROOT.exec(doc)
  if (!root || count(doc, 'GetCallerIdentityResponse') !== 1)
    throw invalid('XML without one GetCallerIdentityResponse root')
  const inner = root[1] ?? ''
  if (count(inner, 'GetCallerIdentityResult') !== 1) throw invalid('XML without one GetCallerIdentityResult')
  const result = /<GetCallerIdentityResult>([\s\S]*)<\/GetCallerIdentityResult>/.exec(inner)?.[1]
  if (result === undefined) throw invalid('XML without one GetCallerIdentityResult')
  return { account: element(inner, result, 'Account'), arn: element(inner, result, 'Arn') }
}

/** Number of opening tags `<name>` or `<name …>` in `text`. */
function count(text: string, name: string): number {
  return text.match(new RegExp(`<${name}[\\s/>]`, 'g'))?.length ?? 0
}

/** The text of the single `<name>` element, which must be inside the result element. */
function element(whole: string, result: string, name: string): string {
  if (count(whole, name) !== 1) throw invalid(`XML without exactly one ${name}`)
  const value = new RegExp(`<${name}>([^<&]*)</${name}>`).exec(result)?.[1]
  if (value === undefined) throw invalid(`XML without a plain ${name} value in GetCallerIdentityResult`)
  return value.trim()
}
