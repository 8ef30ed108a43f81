# Sourced by every recipe (as Kaldi's path.sh): puts the repository's .venv (made by `make setup`) on PATH.
gatescope_root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [ -x "$gatescope_root/.venv/bin/gatescope" ]; then
  export PATH="$gatescope_root/.venv/bin:$PATH"
fi
if ! command -v gatescope >/dev/null; then
  echo "gatescope is not installed: run 'make setup' in $gatescope_root first" >&2
  exit 1
fi

# The recorded noise of a robustness stage: $1 (--noise-dir DIR) when given, else Speech Commands'
# doing_the_dishes.wav (CC BY 4.0, 3 MB, pinned SHA-256) downloaded into downloads/noise; prints its path, or
# nothing when offline (the downloader has said why in one line).
recorded_noise() {
  if [ -n "$1" ]; then
    echo "$1"
  elif gatescope download noise-dishes --out downloads/noise --quiet > /dev/null; then
    echo "$(pwd)/downloads/noise/doing_the_dishes.wav"
  fi
}
