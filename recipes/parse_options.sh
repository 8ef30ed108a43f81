# Sourced by the recipes after their defaults, as Kaldi's utils/parse_options.sh: every `--some-name VALUE`
# sets the variable some_name, which must already have a default (so a typo is an error, not a new variable).
# `--help` prints the script's header comment. Arguments without `--` are left in "$@" (key=value overrides).
positional=()
while [ $# -gt 0 ]; do
  case "$1" in
    -h|--help) sed -n '2,/^set -euo pipefail/p' "$0" | sed '$d' | sed 's/^# \{0,1\}//'; exit 0 ;;
    --*)
      name=${1#--}; name=${name//-/_}
      if [ -z "${!name+set}" ]; then echo "$0: unknown option $1" >&2; exit 2; fi
      if [ $# -lt 2 ]; then echo "$0: option $1 needs a value" >&2; exit 2; fi
      printf -v "$name" '%s' "$2"; shift 2 ;;
    *) positional+=("$1"); shift ;;
  esac
done
set -- ${positional[@]+"${positional[@]}"}
