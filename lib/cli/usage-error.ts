/**
 * A command line of the wrong shape: an unknown subcommand, a missing argument, a missing or
 * conflicting option, or an option value the CLI cannot parse (`--ttl 10`, `--format xml`,
 * `--expires tomorrow`; see flag-values.ts). Code `ERR_BAD_REQUEST` like any bad input, but `main`
 * exits 2 for it. A well-formed value that the cluster's rules refuse (a resource field, an
 * unknown bot) is an ordinary error: exit 1.
 */
import { BadRequestError } from '../errors.ts'

export class UsageError extends BadRequestError {}
