#!/usr/bin/env bash
# Runs the compiled test files (dist/test/**/*.test.js), optionally only those whose path
# contains one of the given words: `scripts/run-tests.sh policy cli`.
# Only *.test.js files are tests; support code and fixtures under dist/test are not.
set -euo pipefail
cd "$(dirname "$0")/.."
mapfile -t files < <(find dist/test -name '*.test.js' | sort)
if [ "$#" -gt 0 ]; then
  selected=()
  for f in "${files[@]}"; do
    for word in "$@"; do
      if [[ "$f" == *"$word"* ]]; then selected+=("$f"); break; fi
    done
  done
  files=("${selected[@]}")
fi
if [ "${#files[@]}" -eq 0 ]; then echo "no test files matched: $*" >&2; exit 2; fi
exec node --test --test-reporter=spec "${files[@]}"
