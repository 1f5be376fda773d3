#!/usr/bin/env bash
# Runs bench/demo/pipeline.sh once per line of settings (VAR=value ... per line, shell-quoted, read from stdin), one at a time,
# and appends each run's settings, SUMMARY and RESULT (stage times) lines to $LOG.
#   printf '%s\n' "STEPS=300 LR=1e-3" "STEPS=300 LR=3e-3" | bench/demo/sweep.sh
set -uo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
: "${LOG:=/tmp/demo-quality-wt/sweep.log}"
: "${BASE:=/tmp/demo-quality-wt/sweep}"
mkdir -p "$BASE"
i=0
while read -r line; do
  [[ -z "$line" || "$line" == \#* ]] && continue
  i=$((i + 1))
  out="$BASE/$i"
  start=$(date +%s)
  echo "### $(date -u +%H:%M) load $(cut -d' ' -f1 /proc/loadavg): $line" >> "$LOG"
  # A copy, so that editing pipeline.sh cannot disturb a running instance (bash reads scripts as it goes).
  cp "$here/pipeline.sh" "$out.pipeline.sh"
  ( eval "export $line"; OUT="$out" ST_ROOT="$(cd "$here/../.." && pwd)" nice -n 5 bash "$out.pipeline.sh" ) > "$out.log" 2>&1
  grep -E "^(SUMMARY|RESULT|  eval step)" "$out.log" >> "$LOG" || tail -5 "$out.log" >> "$LOG"
  echo "    wall $(( $(date +%s) - start )) s, load after $(cut -d' ' -f1 /proc/loadavg)" >> "$LOG"
done
