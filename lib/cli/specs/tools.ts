/**
 * Consumers and helpers: fetch, kube credentials, doctor, version. Declarations only: each command's code is imported when it runs, so
 * `--help` and the tree stay cheap to load.
 */
import type { Command } from '../command.ts'

export const FETCH_COMMAND: Command = {
  kind: 'command',
  name: 'fetch',
  summary: 'read the current credential a bot wrote to AWS Secrets Manager',
  details: [
    'Writes every artifact to --out DIR (files 0600, DIR 0700), prints one --artifact, or prints all',
    'as --json. Refuses an expired credential. Region from AWS_REGION / AWS_DEFAULT_REGION;',
    'CREDBROKER_SECRETS_MANAGER_ENDPOINT overrides the endpoint.',
  ].join('\n'),
  flags: {
    secret: { type: 'string', value: 'ID', description: 'the secret name or ARN (required)' },
    out: { type: 'string', value: 'DIR', description: 'write every artifact as DIR/<name>' },
    artifact: { type: 'string', value: 'NAME', description: 'print one artifact, e.g. tlscert' },
    json: { type: 'boolean', description: 'print artifacts, metadata and expiry as JSON' },
  },
  examples: [
    'credbroker fetch --secret credbroker/ci --out ./ci',
    'credbroker fetch --secret credbroker/ci --artifact tlscert',
  ],
  run: (inv) => import('../commands/fetch.ts').then((m) => m.runFetch(inv)),
}

export const KUBE_CREDENTIALS_COMMAND: Command = {
  kind: 'command',
  name: 'credentials',
  summary: "the exec credential plugin of a kubernetes output's kubeconfig (prints an ExecCredential)",
  flags: {
    'destination-dir': {
      type: 'string',
      value: 'DIR',
      description: 'the directory the kubernetes output writes (tls.crt, tls.key)',
    },
  },
  examples: ['credbroker kube credentials --destination-dir /opt/machine-id/kube'],
  run: (inv) => import('../commands/kube.ts').then((m) => m.runKubeCredentials(inv)),
}

export const DOCTOR_COMMAND: Command = {
  kind: 'command',
  name: 'doctor',
  summary: "check a bot against the troubleshooting guide's symptoms and print each fix",
  details: [
    'Recognises: generation-mismatch locks, an expired identity, SSH principals not granted (--login),',
    'databases not found (with the missing rule when the local state is at hand), kube exec-plugin',
    'destinations, and an auth address mismatch. Exit 0 when nothing is found, 1 otherwise.',
  ].join('\n'),
  flags: {
    config: { type: 'string', short: 'c', value: 'FILE', description: 'the bot configuration' },
    login: { type: 'string', value: 'NAME', description: 'the SSH login the bot should be able to use' },
    json: { type: 'boolean', description: 'same as --format json', hidden: true },
  },
  examples: ['credbroker doctor -c examples/bot.yaml --login bob'],
  output: { defaultFormat: 'text' },
  run: (inv) => import('../commands/doctor.ts').then((m) => m.runDoctor(inv)),
}

export const VERSION_COMMAND: Command = {
  kind: 'command',
  name: 'version',
  summary: 'the credbroker version, Node version and commit',
  examples: ['credbroker version', 'credbroker version --format json'],
  output: { defaultFormat: 'text' },
  run: (inv) => import('../commands/version.ts').then((m) => m.runVersion(inv)),
}
