#!/usr/bin/env bash
# Build the one-folder app with PyInstaller: dist/llmproxy-desktop/llmproxy-desktop.
#
#   scripts/build-binary.sh
#
# 1. creates/updates .venv-build (pip install -e '.[build]'; skipped when pyproject.toml and the
#    interpreter are unchanged), separate from .venv so a build never disturbs the dev venv,
# 2. runs PyInstaller on build.spec (work files in build/, the bundle in dist/),
# 3. prints the bundle's size and fails when it is over MAX_BUNDLE_MB (200 MB).
# Environment: PYTHON (interpreter for a new venv, default python3), LLMPROXY_BUILD_VENV (the
# venv, default <repo>/.venv-build), MAX_BUNDLE_MB.
set -euo pipefail

# shellcheck source=scripts/bootstrap.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/bootstrap.sh"
BUILD_VENV="${LLMPROXY_BUILD_VENV:-$REPO_ROOT/.venv-build}"
STAMP="$BUILD_VENV/.llmproxy-build-stamp"
MAX_BUNDLE_MB="${MAX_BUNDLE_MB:-200}"
BUNDLE="$REPO_ROOT/dist/llmproxy-desktop"
PYTHON="${PYTHON:-python3}"

log() { printf '==> %s\n' "$*" >&2; }

fingerprint() {
  {
    sha256sum "$REPO_ROOT/pyproject.toml"
    "$BUILD_VENV/bin/python" -c 'import sys; print(sys.version)'
  } | sha256sum | cut -d' ' -f1
}

start=$(date +%s)
cd "$REPO_ROOT"
# objdump (binutils), Python with venv, then Debian's libpython3.N (known once Python is there):
# installed as root, else the apt command is printed (exit 2).
bs_ensure_system_packages "${BUILD_PACKAGES[@]}"
mapfile -t LIBPYTHON < <(bs_libpython_package)
bs_ensure_system_packages "${LIBPYTHON[@]}"

# One build at a time per tree: two test runs in one checkout must not write dist/ together.
mkdir -p "$REPO_ROOT/build"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$REPO_ROOT/build/.build-binary.lock"
  flock 9
fi

if [[ -e $BUILD_VENV ]] && ! "$BUILD_VENV/bin/python" -c 'pass' >/dev/null 2>&1; then
  log "$BUILD_VENV is broken: recreating it"
  rm -rf -- "$BUILD_VENV"
fi
if [[ ! -e $BUILD_VENV ]]; then
  log "creating $BUILD_VENV with $("$PYTHON" -V 2>&1)"
  "$PYTHON" -m venv "$BUILD_VENV"
fi
if [[ ! -f $STAMP || $(<"$STAMP") != "$(fingerprint)" || ! -x $BUILD_VENV/bin/pyinstaller ]]; then
  log "pip install -e '.[build]' into $BUILD_VENV"
  "$BUILD_VENV/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -e "${REPO_ROOT}[build]"
  fingerprint >"$STAMP"
fi

log "pyinstaller build.spec"
# The spec renders the Windows/macOS icon with Qt: no display needed.
QT_QPA_PLATFORM=offscreen "$BUILD_VENV/bin/pyinstaller" --noconfirm --clean --log-level WARN \
  --distpath "$REPO_ROOT/dist" --workpath "$REPO_ROOT/build" "$REPO_ROOT/build.spec"

[[ -d $BUNDLE ]] || { printf 'error: %s was not built\n' "$BUNDLE" >&2; exit 1; }
size_mb=$(du -sm "$BUNDLE" | cut -f1)
files=$(find "$BUNDLE" -type f | wc -l)
printf 'bundle: %s: %s MB, %s files (limit %s MB); built in %s s\n' \
  "$BUNDLE" "$size_mb" "$files" "$MAX_BUNDLE_MB" "$(($(date +%s) - start))"
if ((size_mb > MAX_BUNDLE_MB)); then
  printf 'error: the bundle is %s MB, over the %s MB limit\n' "$size_mb" "$MAX_BUNDLE_MB" >&2
  exit 1
fi
