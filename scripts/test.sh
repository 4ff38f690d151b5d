#!/usr/bin/env bash
# The whole podnet test suite on a fresh Debian machine, as root: set-up (packages, npm ci, native build, bundles),
# typecheck, then every tier of tests. Ends with one line "tests: N passed, N failed". The root network namespace
# is compared before and after: a test that leaves anything behind fails the run.
set -uo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh || { echo "tests: 0 passed, 1 failed (set-up failed)"; exit 1; }

echo "== typecheck"
if ! node_modules/.bin/tsc -p tsconfig.json; then
  echo "tests: 0 passed, 1 failed (typecheck failed)"
  exit 1
fi

before=$(bash scripts/rootNamespaceState.sh)
echo "== tests"
node scripts/runTests.mjs "$@"
rc=$?
after=$(bash scripts/rootNamespaceState.sh)
if [ "$before" != "$after" ]; then
  echo "the root network namespace changed during the tests:"
  diff <(echo "$before") <(echo "$after") | sed 's/^/  /'
  echo "tests: 0 passed, 1 failed (root namespace changed)"
  exit 1
fi
exit $rc
