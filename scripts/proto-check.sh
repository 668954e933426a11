#!/usr/bin/env bash
# Checks on the gRPC contract (proto/tillgate/v1), for CI and for humans.
#
#   bash scripts/proto-check.sh            fails if src/gen is stale: regenerates into a temporary
#                                           directory with buf.gen.yaml and diffs against src/gen.
#   bash scripts/proto-check.sh breaking   runs `buf breaking` against the main branch of this git
#                                           repository; skipped, with a message, while main has no
#                                           proto/ directory yet (before the contract first lands).
#
# Exit status: 0 when the check passes or is skipped, 1 when it fails, 2 on a usage error.
set -euo pipefail
cd "$(dirname "$0")/.."

buf="./node_modules/.bin/buf"
if [[ ! -x "$buf" ]]; then
  echo "proto-check: $buf not found; run npm ci first" >&2
  exit 1
fi

check_generated_is_fresh() {
  # Global, not local: the EXIT trap runs after this function has returned.
  scratch="$(mktemp -d "${TMPDIR:-/tmp}/tillgate-proto-check.XXXXXX")"
  # The scratch directory goes even when a step fails.
  trap 'rm -rf "$scratch"' EXIT
  # --output prefixes every `out:` of buf.gen.yaml, so the fresh code lands in $scratch/src/gen.
  "$buf" generate --output "$scratch"
  if [[ ! -d src/gen ]]; then
    echo "proto-check: src/gen does not exist; run \`npm run proto:gen\` and commit the result" >&2
    exit 1
  fi
  if ! diff -r -u "$scratch/src/gen" src/gen; then
    echo >&2
    echo "proto-check: src/gen is stale (it does not match proto/ and buf.gen.yaml)." >&2
    echo "proto-check: run \`npm run proto:gen\` and commit src/gen; never edit src/gen by hand." >&2
    exit 1
  fi
  echo "proto-check: src/gen is up to date with proto/ and buf.gen.yaml"
}

check_not_breaking() {
  # Compare against PROTO_BREAKING_AGAINST (a git ref; default main). In CI the clone's main is
  # the submission itself, so CI compares against the commit before it (HEAD~1).
  local against="${PROTO_BREAKING_AGAINST:-main}"
  if ! git rev-parse --verify --quiet "$against^{commit}" >/dev/null; then
    echo "proto-check: skipped breaking check: no git ref '$against' to compare against"
    return 0
  fi
  if ! git cat-file -e "$against:proto" 2>/dev/null; then
    echo "proto-check: skipped breaking check: '$against' has no proto/ yet"
    return 0
  fi
  # Read the committed tree of the ref (not the working copy) into a scratch directory.
  scratch="$(mktemp -d "${TMPDIR:-/tmp}/tillgate-proto-base.XXXXXX")"
  trap 'rm -rf "$scratch"' EXIT
  git archive "$against" proto buf.yaml | tar -x -C "$scratch"
  if ! "$buf" breaking --against "$scratch"; then
    echo "proto-check: the contract has breaking changes against '$against' (see above)." >&2
    exit 1
  fi
  echo "proto-check: no breaking changes against '$against'"
}

case "${1:-fresh}" in
  fresh) check_generated_is_fresh ;;
  breaking) check_not_breaking ;;
  *)
    echo "usage: bash scripts/proto-check.sh [fresh|breaking]" >&2
    exit 2
    ;;
esac
