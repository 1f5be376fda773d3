#!/usr/bin/env bash
# The full SharpTune test suite. Installs the reference oracles (apt, npm) through tests/setup/*.sh, builds,
# runs every test with oracles required (a missing oracle fails instead of skipping) and ends with
# 'N passed, N failed' (', N skipped' when any were skipped).
set -uo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"

for setup in tests/setup/*.sh; do
  [[ -e "$setup" ]] || continue
  echo "== setup: $setup"
  if ! bash "$setup"; then
    echo "setup step $setup failed"
    echo "0 passed, 1 failed"
    exit 1
  fi
done

export SHARPTUNE_REQUIRE_ORACLES=1
results="$root/artifacts/test-results"
rm -rf "$results"
mkdir -p "$results"
echo "== dotnet test"
dotnet test tests/SharpTune.Tests/SharpTune.Tests.csproj -c Release --nologo \
  --logger "trx;LogFileName=results.trx" --logger "console;verbosity=normal" --results-directory "$results"
status=$?

trx="$results/results.trx"
if [[ ! -f "$trx" ]]; then
  echo "no test results were written (build failure?)"
  echo "0 passed, 1 failed"
  exit 1
fi
counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
get() { sed -n "s/.* $1=\"\([0-9]*\)\".*/\1/p" <<<"$counters"; }
passed=$(get passed); failed=$(get failed); total=$(get total); executed=$(get executed)
errors=$(get error); timeouts=$(get timeout); aborted=$(get aborted)
failed=$(( ${failed:-0} + ${errors:-0} + ${timeouts:-0} + ${aborted:-0} ))
skipped=$(( ${total:-0} - ${executed:-0} ))
if (( status != 0 && failed == 0 )); then failed=1; fi
if (( skipped > 0 )); then
  echo "${passed:-0} passed, ${failed} failed, ${skipped} skipped"
else
  echo "${passed:-0} passed, ${failed} failed"
fi
(( failed == 0 )) || exit 1
exit 0
