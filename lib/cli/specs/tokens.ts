/**
 * Join tokens. Declarations only: each command's code is imported when it runs, so
 * `--help` and the tree stay cheap to load.
 */
import type { Command } from '../command.ts'

const tokensAdd: Command = {
  kind: 'command',
  name: 'add',
  summary: 'create a join token for a bot (token: one-time secret; iam: AWS allow rules)',
  flags: {
    bot: { type: 'string', value: 'NAME', description: 'the bot the token joins as (required)' },
    type: { type: 'string', value: 'token|iam', description: 'join method (default token)' },
    ttl: { type: 'string', value: 'DURATION', description: 'lifetime (token: default 1h; iam: none)' },
    name: { type: 'string', value: 'NAME', description: 'iam: the token name bots configure' },
    'allow-account': {
      type: 'list',
      value: 'ACCOUNT',
      description: 'iam: allow callers of this AWS account (repeatable)',
    },
    'allow-arn': {
      type: 'list',
      value: 'ARN_GLOB',
      description: 'iam: allow callers matching this ARN (repeatable)',
    },
  },
  examples: [
    'credbroker tokens add --bot ci --ttl 15m',
    'credbroker tokens add --bot lambda --type iam --name lambda-iam --allow-arn "arn:aws:sts::123456789012:assumed-role/rotate/*"',
  ],
  output: { defaultFormat: 'text' },
  remote: true,
  run: (inv) => import('../commands/tokens.ts').then((m) => m.runTokensAdd(inv)),
}

const tokensLs: Command = {
  kind: 'command',
  name: 'ls',
  summary: 'list join tokens',
  details: [
    "A token-method token's name is its secret: every format (text, json, yaml) shows only its first",
    '8 characters unless --show-secrets is given. credbroker get token prints the documents as',
    "they are, full names included (an admin's explicit read of the resources).",
  ].join('\n'),
  flags: {
    'show-secrets': {
      type: 'boolean',
      description: 'print token-method token names in full (they are secrets: anyone holding one can join)',
    },
  },
  examples: ['credbroker tokens ls', 'credbroker tokens ls --show-secrets --format json'],
  output: { defaultFormat: 'text' },
  remote: true,
  run: (inv) => import('../commands/tokens.ts').then((m) => m.runTokensLs(inv)),
}

const tokensRm: Command = {
  kind: 'command',
  name: 'rm',
  summary: 'delete a join token',
  args: [{ name: 'name', description: 'the token (its full name)' }],
  examples: ['credbroker tokens rm lambda-iam'],
  remote: true,
  run: (inv) => import('../commands/tokens.ts').then((m) => m.runTokensRm(inv)),
}

export const TOKENS_COMMANDS = [tokensAdd, tokensLs, tokensRm] as const
