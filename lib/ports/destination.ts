/**
 * The destination port: where the bot puts the artifacts of one output (key, certificates, CA
 * bundles, `known_hosts`, `ssh_config`, kubeconfig…).
 *
 * A destination holds **one complete set** of artifacts, the result of one issuance, and
 * replaces it as a whole: a consumer never sees the key of one issuance beside the certificate of
 * another (tbot's directory destination writes file by file and can; see
 * gravitational/teleport#13228).
 *
 * Adapters: `memory`, `directory` (versioned directory plus symlink swap) and, later, AWS Secrets
 * Manager (one JSON secret version per set). Every adapter passes
 * `test/conformance/destination.suite.ts`.
 *
 * ## Artifact names
 * Plain file names (`key`, `tlscert`, `key-cert.pub`, `known_hosts`, `credbroker-user-ca.crt`):
 * 1–{@link MAX_ARTIFACT_NAME_LENGTH} characters from `[A-Za-z0-9._-]`, not starting with `.`
 * (which also rules out `.` and `..`; adapters keep their own bookkeeping under dot names). A bad
 * name is a programmer error, so it throws a `TypeError` before any I/O.
 *
 * ## Errors
 * Failures the operator can fix (a destination path that is a symlink, a file planted where an
 * artifact goes, a lock held by another writer) are `BrokerError`s; adapters document which.
 */

/** Longest artifact name, in characters. */
export const MAX_ARTIFACT_NAME_LENGTH = 128

/** See "Artifact names" above. */
export const ARTIFACT_NAME_PATTERN = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/

/** Artifact content: bytes, or text stored as UTF-8. */
export type ArtifactContent = Uint8Array | string

/** Facts about one write, for logs and idempotency. */
export interface WriteMeta {
  /**
   * Identifies the issuance the set comes from (1–128 of `[A-Za-z0-9._:-]`). Adapters with
   * idempotent writes (Secrets Manager's `ClientRequestToken`) use it so a retried write of one
   * issuance makes one version; others may only log it.
   */
  readonly issuanceId?: string
  /**
   * Facts about the set — output name and type, serial, validity, roles, CA fingerprints — for
   * consumers. Adapters that keep one document per set store them (Secrets Manager); others
   * ignore them. Keys are 1–64 of `[a-z0-9_]` starting with a letter; values are JSON.
   */
  readonly metadata?: Readonly<Record<string, unknown>>
}

/** What a successful write made. */
export interface WriteResult {
  /**
   * The version the set was stored as, non-empty and different for every write that made a new
   * version: Secrets Manager's `VersionId`, the directory's version directory name, the memory
   * destination's counter. An idempotent retry (same issuance, same content) that made no new
   * version returns the first write's id.
   */
  readonly versionId: string
}

export interface Destination {
  /**
   * Replaces the whole current set with `artifacts`, atomically: afterwards readers see exactly
   * these artifacts (any name absent from `artifacts` is gone); before, they see the previous set
   * complete; never a mix. A write that fails leaves the previous set readable and unchanged.
   * Concurrent writes to one destination serialise: the final set is one writer's whole set.
   * Content is copied: changing a `Uint8Array` after `write` returns does not change the set.
   * @returns the version the set was stored as ({@link WriteResult}).
   * @throws TypeError when `artifacts` is empty, holds a bad name or a value that is neither a
   *   `Uint8Array` nor a string, or `meta` is malformed (programmer errors; nothing is written).
   */
  write(artifacts: ReadonlyMap<string, ArtifactContent>, meta?: WriteMeta): Promise<WriteResult>

  /**
   * One artifact of the current set, as bytes (strings come back as their UTF-8 encoding). The
   * caller owns the returned array.
   * @returns `undefined` when nothing was written yet or the current set has no such artifact.
   * @throws TypeError when `name` is not a valid artifact name.
   */
  read(name: string): Promise<Uint8Array | undefined>

  /**
   * The whole current set, every artifact from the same write, keyed by name in ascending order.
   * @returns an empty map when nothing was written yet.
   */
  readAll(): Promise<Map<string, Uint8Array>>

  /** Where the artifacts go, for logs and messages: `directory /opt/machine-id`, `memory`. */
  describe(): string
}

/** True when `name` is a valid artifact name (see "Artifact names"). */
export function isArtifactName(name: unknown): name is string {
  return typeof name === 'string' && ARTIFACT_NAME_PATTERN.test(name)
}

/**
 * Throws the `TypeError` the port promises for a bad name.
 * @throws TypeError naming the bad value.
 */
export function assertArtifactName(name: unknown): asserts name is string {
  if (!isArtifactName(name)) {
    throw new TypeError(
      `invalid artifact name ${JSON.stringify(name)}: use 1-${MAX_ARTIFACT_NAME_LENGTH} of [A-Za-z0-9._-], not starting with "."`,
    )
  }
}

/**
 * Checks a write's arguments and returns the set as bytes, copied and sorted by name: what every
 * adapter's `write` starts with, so validation happens before any I/O.
 * @throws TypeError as {@link Destination.write} documents.
 */
export function prepareArtifacts(
  artifacts: ReadonlyMap<string, ArtifactContent>,
  meta?: WriteMeta,
): Map<string, Uint8Array> {
  if (!(artifacts instanceof Map)) throw new TypeError('artifacts must be a Map of name to content')
  if (artifacts.size === 0) throw new TypeError('a write needs at least one artifact (a set is never empty)')
  if (meta !== undefined) {
    const id = meta.issuanceId
    if (id !== undefined && (typeof id !== 'string' || !/^[A-Za-z0-9._:-]{1,128}$/.test(id))) {
      throw new TypeError(`invalid issuanceId ${JSON.stringify(id)}: use 1-128 of [A-Za-z0-9._:-]`)
    }
  }
  const out = new Map<string, Uint8Array>()
  for (const name of [...artifacts.keys()].sort()) {
    assertArtifactName(name)
    const value = artifacts.get(name)
    if (typeof value === 'string') out.set(name, new TextEncoder().encode(value))
    else if (value instanceof Uint8Array) out.set(name, new Uint8Array(value))
    else throw new TypeError(`artifact ${name} must be a Uint8Array or a string`)
  }
  return out
}
