/**
 * Stands in for the `bun` module in the infra typecheck (tsconfig.infra.json maps "bun" here).
 * The SST platform's config.ts imports only the `Shell` type from it, for CI workflow hooks
 * this app does not use; the real package (`@types/bun`) would also declare Bun's globals,
 * whose `URL`, `Response`, … conflict with Node's in the `lib/` code that `infra/` imports.
 */
// biome-ignore lint/suspicious/noExplicitAny: the hook's shell is not used here.
export type Shell = any
