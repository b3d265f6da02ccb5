/**
 * Runs `sst.config.ts` offline under Pulumi's mocks, for the infra synthesis tests: the real
 * `@pulumi/pulumi` and `@pulumi/aws` from `.sst/platform` (unpacked by `scripts/sst-types.sh`,
 * which `npm run typecheck` runs), with the SST components (`Dynamo`, `Function`, `CronV2`)
 * replaced by recorders (the real ones bundle handlers through the SST CLI). Records every
 * component and every Pulumi resource with its inputs; the caller checks what each was given once
 * every Output has resolved ({@link Synthesis.value}).
 */
import { existsSync } from 'node:fs'
import { createRequire } from 'node:module'
import { join } from 'node:path'

const PLATFORM = join(process.cwd(), '.sst/platform')

/** The `skip` option of a synthesis test: a reason when `.sst/platform` is not unpacked. */
export const synthSkip: false | string = existsSync(join(PLATFORM, 'node_modules/@pulumi/aws/package.json'))
  ? false
  : 'needs .sst/platform: run `npm run typecheck` (or scripts/sst-types.sh) first'

export const SYNTH_ACCOUNT = '123456789012'
export const SYNTH_REGION = 'eu-west-1'

// biome-ignore lint/suspicious/noExplicitAny: Pulumi's untyped CommonJS modules, loaded by path.
export type Any = any

export interface Recorded {
  /** The Pulumi type (`aws:kms/key:Key`), or the SST component's name (`Function`). */
  readonly type: string
  readonly name: string
  readonly args: Record<string, Any>
  /** The recorder object a component's caller got back (SST components only). */
  readonly instance?: object
}

export interface Synthesis {
  /** SST components by kind: `Dynamo`, `Function`, `CronV2`. */
  readonly components: Readonly<Record<'Dynamo' | 'Function' | 'CronV2', Recorded[]>>
  /** Every Pulumi resource, in creation order. */
  readonly resources: readonly Recorded[]
  /** The app's outputs, resolved. */
  readonly outputs: Record<string, unknown>
  /** Resolves a Pulumi Output (or a plain value) to its value. */
  value<T>(input: unknown): Promise<T>
}

export async function synthesize(options: {
  /** The Function URL of the `sst.aws.Function` named `name`. */
  functionUrl: (name: string) => string
  /** The ARN of a mocked resource; default: a KMS key ARN named after the resource. */
  arnOf?: (type: string, name: string, inputs: Record<string, Any>) => string
}): Promise<Synthesis> {
  const require = createRequire(join(PLATFORM, 'package.json'))
  const pulumi = require('@pulumi/pulumi')
  const components: Synthesis['components'] = { Dynamo: [], Function: [], CronV2: [] }
  const resources: Recorded[] = []
  const arnOf = options.arnOf ?? ((_type, name) => `arn:aws:kms:${SYNTH_REGION}:${SYNTH_ACCOUNT}:key/${name}`)
  await pulumi.runtime.setMocks(
    {
      call: ({ token }: { token: string }) => {
        if (token === 'aws:index/getPartition:getPartition')
          return { partition: 'aws', dnsSuffix: 'amazonaws.com' }
        if (token === 'aws:index/getRegion:getRegion') return { region: SYNTH_REGION, name: SYNTH_REGION }
        if (token === 'aws:index/getCallerIdentity:getCallerIdentity') return { accountId: SYNTH_ACCOUNT }
        throw new Error(`unexpected call ${token}`)
      },
      newResource: ({ type, name, inputs }: { type: string; name: string; inputs: Record<string, Any> }) => {
        resources.push({ type, name, args: inputs })
        return { id: `${name}-id`, state: { ...inputs, arn: arnOf(type, name, inputs) } }
      },
    },
    'credbroker',
    'dev',
    false,
  )
  const recorder = (
    kind: keyof Synthesis['components'],
    extra: (name: string, args: Any) => Record<string, unknown>,
  ) =>
    class {
      constructor(name: string, args: Record<string, Any>) {
        components[kind].push({ type: kind, name, args, instance: this })
        Object.assign(this, extra(name, args))
      }
    }
  Object.assign(globalThis, {
    aws: require('@pulumi/aws'),
    $config: (config: unknown) => config,
    $resolve: (v: unknown) => pulumi.output(v),
    $jsonStringify: pulumi.jsonStringify,
    $app: { name: 'credbroker', stage: 'dev' },
    $cli: { paths: { root: process.cwd() } },
    sst: {
      aws: {
        Dynamo: recorder('Dynamo', () => ({
          name: pulumi.output('credbroker-dev-StateTable'),
          arn: pulumi.output(
            `arn:aws:dynamodb:${SYNTH_REGION}:${SYNTH_ACCOUNT}:table/credbroker-dev-StateTable`,
          ),
        })),
        Function: recorder('Function', (name, args) => ({
          name: pulumi.output(args.name),
          arn: pulumi.output(`arn:aws:lambda:${SYNTH_REGION}:${SYNTH_ACCOUNT}:function:${args.name}`),
          url: pulumi.output(options.functionUrl(name)),
        })),
        CronV2: recorder('CronV2', () => ({})),
      },
    },
  })
  const value = <T>(input: unknown) =>
    new Promise<T>((resolve) => pulumi.output(input).apply((v: T) => resolve(v)))
  // Not a literal, so the main typecheck (which has no SST globals) does not follow it.
  const configPath = join(process.cwd(), 'sst.config.ts')
  const app = (await import(configPath)).default as { run(): Promise<Record<string, unknown>> }
  const outputs = await value<Record<string, unknown>>(await app.run())
  return { components, resources, outputs, value }
}
