#!/usr/bin/env bash
# Creates .venv (python3 -m venv) if missing and installs requirements-dev.txt into it, using pip's
# cache. Idempotent: when .venv already holds exactly these requirements (a stamp with their
# hash and the Python version), it returns at once without calling pip.
# Quiet: prints nothing but errors, unless -v / --verbose or KUBE_AUTOSAVE_VERBOSE=1.
# Env: PYTHON (interpreter to use, default python3), VENV_DIR (default <repo>/.venv).
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

verbose="${KUBE_AUTOSAVE_VERBOSE:-0}"
case "${1:-}" in
  -v | --verbose) verbose=1 ;;
  "") ;;
  *) echo "usage: bash scripts/python-venv.sh [-v|--verbose]" >&2; exit 2 ;;
esac
say() { if [ "$verbose" = 1 ]; then echo "python-venv: $*"; fi; }
die() { echo "python-venv: ERROR: $*" >&2; exit 1; }

python="${PYTHON:-python3}"
venv="${VENV_DIR:-$PWD/.venv}"
req="$PWD/requirements-dev.txt"

command -v "$python" >/dev/null 2>&1 || die "$python not found; Python >= 3.10 is required (for cfn-lint)."
"$python" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null ||
  die "Python >= 3.10 is required (for cfn-lint); $python is $("$python" -V 2>&1 || echo unknown)."
[ -f "$req" ] || die "$req is missing."

want="$("$python" -c 'import hashlib, sys; print(sys.version.split()[0], hashlib.sha256(open(sys.argv[1], "rb").read()).hexdigest())' "$req")"
stamp="$venv/.requirements-dev.stamp"
if [ -x "$venv/bin/python" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ] && "$venv/bin/python" -c '' 2>/dev/null; then
  say "$venv is up to date ($want)."
  exit 0
fi

if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c '' 2>/dev/null; then
  say "creating $venv"
  rm -rf "$venv"
  "$python" -m venv "$venv" || die "'$python -m venv $venv' failed (on Debian: apt-get install python3-venv)."
fi

quiet=(--quiet)
[ "$verbose" = 1 ] && quiet=()
say "installing $req"
# pip's cache (its default, ~/.cache/pip) makes a re-install after a requirements change fast.
if ! out="$("$venv/bin/python" -m pip install "${quiet[@]}" --disable-pip-version-check --no-input -r "$req" 2>&1)"; then
  echo "$out" >&2
  die "pip install -r requirements-dev.txt failed."
fi
[ -n "$out" ] && [ "$verbose" = 1 ] && echo "$out"
echo "$want" >"$stamp"
say "done: $("$venv/bin/cfn-lint" --version 2>&1)"
