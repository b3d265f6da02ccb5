#!/usr/bin/env bash
# Makes sure the SST platform types that `tsconfig.infra.json` checks against exist: runs
# `sst install` offline-safe when `.sst/platform/config.d.ts` is missing or belongs to another
# SST version. `sst install` unpacks the platform sources from the sst binary (node_modules/sst)
# and npm-installs the Pulumi providers into .sst/platform (about 300 MB, ~1 minute from
# scratch); it needs the npm registry but not AWS, GitHub or Pulumi's servers.
#
#   SST_SKIP_DEPENDENCY_CHECK  skips the pulumi and bun downloads (GitHub), which fail offline
#   SST_TELEMETRY_DISABLED     no telemetry calls
#   SST_NO_BUN                 npm installs the platform's dependencies instead of bun
#
# A stage is required non-interactively; `ci` is only a label here, nothing is deployed.
set -euo pipefail
cd "$(dirname "$0")/.."

want=$(node -p "require('./node_modules/sst/package.json').version")
have=$(cat .sst/platform/version 2>/dev/null || true)
if [[ -f .sst/platform/config.d.ts && -f .sst/platform/node_modules/@pulumi/aws/package.json && "$have" == "$want" ]]; then
  exit 0
fi

echo "sst-types: unpacking the SST $want platform types into .sst/platform (sst install, about a minute)" >&2
log=$(mktemp)
trap 'rm -f "$log"' EXIT
started=$SECONDS
if ! SST_SKIP_DEPENDENCY_CHECK=true SST_TELEMETRY_DISABLED=1 SST_NO_BUN=1 \
  node_modules/.bin/sst install --stage ci >"$log" 2>&1; then
  cat "$log" >&2
  echo "sst-types: sst install failed (see above)" >&2
  exit 1
fi
if [[ ! -f .sst/platform/config.d.ts ]]; then
  cat "$log" >&2
  echo "sst-types: sst install finished but wrote no .sst/platform/config.d.ts" >&2
  exit 1
fi
echo "sst-types: done in $((SECONDS - started)) s" >&2
