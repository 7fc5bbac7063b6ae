#!/usr/bin/env bash
# The full test suite: notebooks clean, library in sync, notebook tests, pytest. Exits non-zero on any failure.
# Run from anywhere; uses the project's .venv when there is one.
set -uo pipefail
cd "$(dirname "$0")/.."
[ -x .venv/bin/python ] && export PATH="$PWD/.venv/bin:$PATH"
export MPLBACKEND=Agg
status=0
digest() { find nbs anime_colorization -type f \( -name '*.ipynb' -o -name '*.py' \) -not -path '*/.ipynb_checkpoints/*' -print0 | sort -z | xargs -0 sha256sum; }
step() { echo; echo "== $1"; }

step "nbdev-clean changes nothing"
before=$(digest); nbdev-clean >/dev/null || status=1
if [ "$before" != "$(digest)" ]; then echo "FAIL: nbdev-clean changed notebooks: commit the cleaned notebooks"; status=1; else echo ok; fi

step "nbdev-export changes nothing (library in sync with the notebooks)"
before=$(digest); nbdev-export || status=1
if [ "$before" != "$(digest)" ]; then echo "FAIL: nbdev-export changed the library: run nbdev-export and commit"; status=1; else echo ok; fi

step "nbdev-test (the notebooks' inline tests; cells flagged slow are skipped)"
nbdev-test --n-workers 2 || status=1

step "pytest tests/"
python -m pytest tests/ -q -rs -p no:cacheprovider --durations=15 || status=1

echo
[ $status -eq 0 ] && echo "ALL CHECKS PASSED" || echo "SOME CHECKS FAILED"
exit $status
