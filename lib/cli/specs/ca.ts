/**
 * CA rotation. Declarations only: each command's code is imported when it runs, so
 * `--help` and the tree stay cheap to load.
 */
import type { Command } from '../command.ts'

/** lib/ca/authorities.ts CA_TYPES and lib/ca/rotation-phases.ts ROTATION_PHASES (checked by tests). */
export const CA_TYPE_LIST = 'user, host, db, jwt'
export const ROTATION_PHASE_LIST = 'standby, init, update_clients, update_servers, rollback'

const TYPE_FLAG = {
  type: { type: 'string', value: 'TYPE', description: `the CA: ${CA_TYPE_LIST}` },
} as const

const caStatus: Command = {
  kind: 'command',
  name: 'status',
  summary: 'where each CA is in its rotation',
  flags: TYPE_FLAG,
  examples: ['credbroker ca status', 'credbroker ca status --type user --format json'],
  output: { defaultFormat: 'text' },
  remote: true,
  run: (inv) => import('../commands/ca.ts').then((m) => m.runCaStatus(inv)),
}

const caRotate: Command = {
  kind: 'command',
  name: 'rotate',
  summary: 'take one CA rotation step (by default the next phase)',
  details: [
    `Phases: ${ROTATION_PHASE_LIST}.`,
    'The forward path is standby → init → update_clients → update_servers → standby; rollback',
    'returns to the old keys from init, update_clients or update_servers. Bots reissue every',
    'output when a phase that matters arrives.',
  ].join('\n'),
  flags: {
    ...TYPE_FLAG,
    phase: { type: 'string', value: 'PHASE', description: 'the phase to go to (default: the next one)' },
    manual: {
      type: 'boolean',
      description:
        '--manual=false: step automatically after each grace period (default: manual for a new rotation, else keep the mode)',
    },
    force: {
      type: 'boolean',
      description:
        'end the rotation (standby) before the new keys have signed for a grace period; bots that have not renewed since lose their identity',
    },
    'grace-period': {
      type: 'string',
      value: 'DURATION',
      description:
        'length of each phase, e.g. 30h (default: 30h when a rotation starts, else its current one, shown by ca status). In manual mode it times the steps only after a later --manual=false, and the step to standby is refused until the new keys have signed for that long',
    },
  },
  examples: [
    'credbroker ca rotate --type user',
    'credbroker ca rotate --type host --manual=false --grace-period 30h',
    'credbroker ca rotate --type user --phase rollback',
    'credbroker ca rotate --type user --phase standby --force',
  ],
  output: { defaultFormat: 'text' },
  remote: true,
  run: (inv) => import('../commands/ca.ts').then((m) => m.runCaRotate(inv)),
}

export const CA_COMMANDS = [caStatus, caRotate] as const
