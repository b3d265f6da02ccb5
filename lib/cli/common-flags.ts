/** Options every command, or every command of a kind, takes: help, output format, remote target. */

import type { FlagSpecs } from './args.ts'
import type { Command } from './command.ts'

export const HELP_FLAG: FlagSpecs = {
  help: { type: 'boolean', short: 'h', description: 'show this help' },
}

export const FORMAT_FLAGS: FlagSpecs = {
  format: {
    type: 'string',
    value: 'text|json|yaml',
    description: 'output format (env CREDBROKER_FORMAT)',
  },
}

/** Where admin commands act: see lib/cli/admin/open-backend.ts for the precedence. */
export const REMOTE_FLAGS: FlagSpecs = {
  'auth-server': {
    type: 'string',
    value: 'URL',
    description: 'act through this auth service (env CREDBROKER_AUTH_SERVER); needs --identity',
  },
  identity: {
    type: 'string',
    value: 'DIR',
    description: 'admin identity directory: key, tlscert (env CREDBROKER_IDENTITY)',
  },
}

/** Every option `cmd` accepts, its own first. */
export function flagsOf(cmd: Command): FlagSpecs {
  return {
    ...cmd.flags,
    ...(cmd.output && FORMAT_FLAGS),
    ...(cmd.remote && REMOTE_FLAGS),
    ...HELP_FLAG,
  }
}
