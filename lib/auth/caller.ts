/** An authenticated caller: the identity proven by proof of possession, plus its certificate's expiry. */
import type { Identity } from '../identity/identity.ts'

export interface Caller {
  readonly identity: Identity
  /** notAfter of the certificate that authenticated the request. */
  readonly expires: Date
}
