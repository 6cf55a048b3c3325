#!/usr/bin/env bash
# THE one command that runs the whole test suite, on a fresh Debian 12 machine or a dev box.
#
#   scripts/test.sh [PYTEST-ARGS...]
#
# 1. installs missing system packages (as root; otherwise prints the apt command and exits 2),
# 2. creates/updates .venv (pip install -e '.[dev]', skipped when pyproject.toml is unchanged),
# 3. creates .venv-litellm for the oracle tests (scripts/make-litellm-venv.sh),
# 4. runs ruff, mypy and pytest over tests/ (Qt offscreen); extra arguments go to pytest, and
#    test paths among them replace tests/.
# Exits non-zero if any step fails; the checks in 4 all run even when an earlier one fails.
set -euo pipefail

# shellcheck source=scripts/bootstrap.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/bootstrap.sh"
cd "$REPO_ROOT"

RUN_START=$(bs_now_us)
SUMMARY=()
FAILED=0
CURRENT_STAGE=""
STAGE_START=0

stage_begin() {
  CURRENT_STAGE=$1
  STAGE_START=$(bs_now_us)
  printf '\n=== %s\n' "$CURRENT_STAGE"
}

# Record the current stage's outcome ("ok" or "FAILED ...") with its duration.
stage_end() {
  local outcome=$1 took
  took=$(bs_format_us $(($(bs_now_us) - STAGE_START)))
  printf '=== %s: %s (%s)\n' "$CURRENT_STAGE" "$outcome" "$took"
  SUMMARY+=("$(printf '%-34s %-28s %s' "$CURRENT_STAGE" "$outcome" "$took")")
  CURRENT_STAGE=""
}

# A bootstrap stage that fails stops the run (set -e); say which one it was.
on_exit() {
  local rc=$?
  if [[ -n $CURRENT_STAGE ]]; then
    printf '\n=== %s: FAILED (exit %d) after %s — stopping\n' "$CURRENT_STAGE" "$rc" \
      "$(bs_format_us $(($(bs_now_us) - STAGE_START)))" >&2
  fi
}
trap on_exit EXIT

# Run one check (an external command); record failure and carry on with the next check.
run_check() {
  local name=$1 rc=0
  shift
  stage_begin "$name"
  "$@" || rc=$?
  if ((rc == 0)); then
    stage_end ok
  else
    stage_end "FAILED (exit $rc)"
    FAILED=1
  fi
  return 0
}

stage_begin "System packages"
bs_ensure_system_packages "${POSTGRES_PACKAGES[@]}" "${QT_OFFSCREEN_PACKAGES[@]}" \
  "${XVFB_PACKAGES[@]}" "${STACK_PACKAGES[@]}" "${BUILD_PACKAGES[@]}"
stage_end ok

stage_begin "Python virtualenv (.venv)"
bs_ensure_venv
stage_end ok

if [[ -f scripts/make-litellm-venv.sh ]]; then
  stage_begin "LiteLLM virtualenv (.venv-litellm)"
  bash scripts/make-litellm-venv.sh
  stage_end ok
else
  printf '\n=== LiteLLM virtualenv: scripts/make-litellm-venv.sh not found, skipped\n'
fi

# Tests may start the console script or other tools of the venv as subprocesses.
export VIRTUAL_ENV="$VENV_DIR"
export PATH="$VENV_DIR/bin:$PATH"
export QT_QPA_PLATFORM=offscreen

run_check "ruff check" ruff check .
run_check "mypy" mypy

stage_begin "pytest"
pytest_rc=0
# Test paths among the arguments (scripts/test.sh tests/gui -x): run those; else all of tests/.
targets=(tests)
for arg in "$@"; do
  if [[ $arg != -* && -e ${arg%%::*} ]]; then
    targets=()
    break
  fi
done
python -m pytest "${targets[@]}" "$@" || pytest_rc=$?
case $pytest_rc in
  0) stage_end ok ;;
  5)
    printf 'pytest collected no tests: an empty suite is a failure, not a pass.\n' >&2
    stage_end "FAILED (no tests collected)"
    FAILED=1
    ;;
  *)
    stage_end "FAILED (exit $pytest_rc)"
    FAILED=1
    ;;
esac

printf '\n=== Summary\n'
printf '  %s\n' "${SUMMARY[@]}"
printf '  total %s\n' "$(bs_format_us $(($(bs_now_us) - RUN_START)))"
if ((FAILED)); then
  printf 'FAILED\n'
  exit 1
fi
printf 'OK\n'
