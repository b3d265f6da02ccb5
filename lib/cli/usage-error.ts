/**
 * A command line of the wrong shape: an unknown subcommand, a missing argument, a missing or
 * conflicting option. Code `ERR_BAD_REQUEST` like any bad input, but `main` exits 2 for it (a
 * value that fails validation is an ordinary error: exit 1).
 */
import { BadRequestError } from '../errors.ts'

export class UsageError extends BadRequestError {}
