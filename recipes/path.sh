# Sourced by every recipe (as Kaldi's path.sh): puts the repository's .venv (made by `make setup`) on PATH.
gatescope_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -x "$gatescope_root/.venv/bin/gatescope" ]; then
  export PATH="$gatescope_root/.venv/bin:$PATH"
fi
if ! command -v gatescope >/dev/null; then
  echo "gatescope is not installed: run 'make setup' in $gatescope_root first" >&2
  exit 1
fi
