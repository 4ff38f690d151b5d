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
if [ $# -gt 0 ]; then
  node scripts/runTests.mjs "$@"
  rc=$?
else
  # Two phases: everything but the busy-loop BGP restart tests, then those alone (their two busy loops would
  # starve the test files ava runs beside them). The last line sums both.
  out1=$(mktemp) out2=$(mktemp)
  PODNET_STRESS_TESTS=0 node scripts/runTests.mjs | tee "$out1"
  rc1=${PIPESTATUS[0]}
  echo "== tests with two busy loops on both cores (BGP restart)"
  PODNET_STRESS_TESTS=only node scripts/runTests.mjs test/netns/bgp/agentRestart.test.ts | tee "$out2"
  rc2=${PIPESTATUS[0]}
  count() { grep -Eo "[0-9]+ $2" <(grep '^tests: ' "$1" | tail -1) | grep -Eo '^[0-9]+' || echo 0; }
  pass=$(( $(count "$out1" passed) + $(count "$out2" passed) ))
  fail=$(( $(count "$out1" failed) + $(count "$out2" failed) ))
  skip=$(( $(count "$out1" skipped) + $(count "$out2" skipped) ))
  rm -f "$out1" "$out2"
  rc=$(( rc1 != 0 || rc2 != 0 ))
  if [ "$rc" -ne 0 ] && [ "$fail" -eq 0 ]; then fail=1; fi
  echo "tests: $pass passed, $fail failed, $skip skipped"
fi
after=$(bash scripts/rootNamespaceState.sh)
if [ "$before" != "$after" ]; then
  echo "the root network namespace changed during the tests:"
  diff <(echo "$before") <(echo "$after") | sed 's/^/  /'
  echo "tests: 0 passed, 1 failed (root namespace changed)"
  exit 1
fi
exit $rc
