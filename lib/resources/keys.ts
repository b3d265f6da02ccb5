/**
 * Store key layout of resources: `<kind>/<name>` (`role/access`, `db/example`), except bot
 * instances, which sit under their bot so one bot's instances list with one prefix:
 * `bot_instance/<bot name>/<instance id>`. The kind is the key's namespace (see the Store port).
 *
 * Names reach these functions from requests (`GET /v1/role/<name>`), so they are checked here
 * before they become keys: a name that could never have been written is a bad request.
 */
import { BadRequestError } from '../errors.ts'
import { isResourceName, MAX_NAME_LENGTH, UUID_PATTERN } from './fields.ts'
import type { Resource, ResourceKind } from './types.ts'

/** Characters a list prefix may hold: those of names, plus `/` for `bot_instance` prefixes. */
const PREFIX = /^[a-zA-Z0-9._@/-]*$/

/**
 * The name tools use for a resource: `metadata.name`, or `<bot name>/<instance id>` for a bot
 * instance (as in `tctl get bot_instance/<bot>/<id>`).
 */
export function nameOf(resource: Resource): string {
  return resource.kind === 'bot_instance'
    ? `${resource.spec.bot_name}/${resource.metadata.name}`
    : resource.metadata.name
}

/**
 * The store key of a resource given its kind and name (see {@link nameOf}).
 * @throws BadRequestError when `name` is not a valid name for `kind`.
 */
export function resourceKey(kind: ResourceKind, name: string): string {
  if (!isValidName(kind, name)) {
    const expected = kind === 'bot_instance' ? ' (expected "<bot name>/<instance id>")' : ''
    // Token names can be join secrets: never echo them.
    const shown = kind === 'token' ? '' : ` ${JSON.stringify(String(name).slice(0, MAX_NAME_LENGTH))}`
    throw new BadRequestError(`invalid ${kind} name${shown}${expected}`)
  }
  return `${kind}/${name}`
}

/** The store key of a (validated) resource. */
export function keyOf(resource: Resource): string {
  return resourceKey(resource.kind, nameOf(resource))
}

/**
 * The store prefix listing resources of `kind` whose name starts with `namePrefix`; for bot
 * instances, `listPrefix('bot_instance', 'ci/')` lists the instances of bot `ci`.
 * @throws BadRequestError when `namePrefix` holds characters no name can contain.
 */
export function listPrefix(kind: ResourceKind, namePrefix = ''): string {
  if (typeof namePrefix !== 'string' || namePrefix.length > 2 * MAX_NAME_LENGTH || !PREFIX.test(namePrefix)) {
    throw new BadRequestError(`invalid ${kind} name prefix`)
  }
  return `${kind}/${namePrefix}`
}

function isValidName(kind: ResourceKind, name: string): boolean {
  if (typeof name !== 'string') return false
  if (kind !== 'bot_instance') return isResourceName(name)
  const slash = name.indexOf('/')
  return slash > 0 && isResourceName(name.slice(0, slash)) && UUID_PATTERN.test(name.slice(slash + 1))
}
