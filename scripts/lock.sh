#!/usr/bin/env bash
# The lock files with hashes that scripts/install.sh installs, made from
# pyproject.toml by uv (`uv pip compile`), one per install: requirements/base.lock
# (scripts/install.sh), local.lock, qdrant.lock and dev.lock (scripts/install.sh EXTRA).
#   scripts/lock.sh           make them again after pyproject.toml changed (keeps every
#                             pin that still fits; delete a lock file to re-resolve it)
#   scripts/lock.sh --check   fail, naming the file, when a lock no longer matches
#                             pyproject.toml (run by .ci/run); needs PyPI
# torch is the CPU build from /opt/wheels (requirements/torch-cpu.txt), found with
# --find-links as scripts/install.sh has always done; see docs/configuration.md.
set -euo pipefail
cd "$(dirname "$0")/.."
uv="${UV:-$(command -v uv || echo .venv/bin/uv)}"
check="${1:-}"
status=0
for name in base local qdrant dev; do
  lock="requirements/$name.lock"
  extra=()
  [ "$name" = base ] || extra=(--extra "$name")
  out="$lock"
  if [ "$check" = --check ]; then
    out="$(mktemp)"
    cp "$lock" "$out"  # uv keeps the pins of the file it writes to, when they still fit
  fi
  "$uv" pip compile pyproject.toml "${extra[@]}" --quiet --generate-hashes --python-version 3.11 \
    --find-links /opt/wheels --emit-find-links --constraint requirements/torch-cpu.txt \
    --custom-compile-command "scripts/lock.sh" -o "$out"
  if [ "$check" = --check ]; then
    if ! diff -q "$lock" "$out" >/dev/null; then
      echo "$lock is not current with pyproject.toml: run scripts/lock.sh and commit it" >&2
      diff "$lock" "$out" | head -20 >&2
      status=1
    fi
    rm -f "$out"
  fi
done
exit $status
