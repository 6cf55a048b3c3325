# shellcheck shell=bash
# Shared bootstrap for scripts/run.sh and scripts/test.sh: Debian system packages and the project
# virtualenv (.venv). Sourced, not executed: it only defines variables and functions.
#
# Both callers run with `set -euo pipefail`; every function here relies on that to stop at the
# first failing command, so none of them may be called from a conditional context (if/||/&&).
#
# The *_PACKAGES arrays are used by the scripts that source this file:
# shellcheck disable=SC2034

REPO_ROOT="$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")/.." && pwd)"
VENV_DIR="$REPO_ROOT/.venv"
# Written into .venv after a successful install; holds a hash of what was installed.
VENV_STAMP="$VENV_DIR/.llmproxy-bootstrap-stamp"
MIN_PYTHON_MINOR=11   # Python 3.11, as pyproject.toml requires.

# Debian 12 package sets (reference/test-infrastructure.md §8.3) ----------------------------------
# Qt's offscreen platform: tests and screenshots, no display needed.
QT_OFFSCREEN_PACKAGES=(libegl1 libgl1 libfontconfig1 libglib2.0-0 libdbus-1-3 libxkbcommon0
  libx11-6 libxcb1 fonts-dejavu-core)
# Real X11 windows under Xvfb (root-window screenshots); the xcb plugin also needs these two.
XVFB_PACKAGES=(xvfb libxcb-icccm4 libxcb-keysyms1)
# Qt's xcb platform on a bare Debian 12: what the app needs to open a real window.
QT_XCB_PACKAGES=(libegl1 libgl1 libfontconfig1 libfreetype6 libglib2.0-0 libdbus-1-3
  libxkbcommon0 libxkbcommon-x11-0 libx11-6 libx11-xcb1 libxcb1 libxcb-cursor0 libxcb-icccm4
  libxcb-image0 libxcb-keysyms1 libxcb-randr0 libxcb-render0 libxcb-render-util0 libxcb-shape0
  libxcb-shm0 libxcb-sync1 libxcb-xfixes0 libxcb-xkb1 libxcb-glx0 libxcb-util1 fonts-dejavu-core
  xvfb)
# Throwaway PostgreSQL clusters for the integration tests (/usr/lib/postgresql/15/bin).
POSTGRES_PACKAGES=(postgresql)
# The real test stack (issue #3): sshd (+ a jump host), ssh-agent, the socket-proxy policy in
# HAProxy, dockerd with a locally imported busybox image, Redis for LiteLLM's cache, and a real
# Secret Service (gnome-keyring in a D-Bus session) for the keyring tests.
# docker-compose (v1) drives the deploy tests' compose project on that dockerd.
STACK_PACKAGES=(openssh-server openssh-client haproxy docker.io docker-compose busybox-static
  redis-server gnome-keyring dbus dbus-x11)
# The PyInstaller build (scripts/build-binary.sh, tests/frozen): on Linux PyInstaller reads each
# library's dependencies with objdump.
BUILD_PACKAGES=(binutils)

_BS_APT_UPDATED=0

bs_log() {
  printf '==> %s\n' "$*" >&2
}

bs_die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Microseconds since the epoch, without forking (EPOCHREALTIME uses the locale's decimal mark).
bs_now_us() {
  local now=${EPOCHREALTIME/[.,]/}
  printf '%s' "$now"
}

# "12.3 s" for a duration in microseconds.
bs_format_us() {
  local us=$1
  printf '%d.%d s' $((us / 1000000)) $(((us % 1000000) / 100000))
}

# The Python interpreter that creates .venv: $PYTHON if set, else python3 from PATH.
bs_python() {
  printf '%s' "${PYTHON:-python3}"
}

# Print the Debian packages the Python interpreter still needs (python3, python3-venv), if any.
_bs_python_packages() {
  local python
  python=$(bs_python)
  if ! command -v "$python" >/dev/null 2>&1; then
    printf '%s\n' python3 python3-venv
  elif ! "$python" -c 'import ensurepip, venv' >/dev/null 2>&1; then
    # Debian splits ensurepip out of python3; `python3 -m venv` fails without it.
    printf '%s\n' python3-venv
  fi
}

# Print the Debian package with the shared library of Debian's Python (libpython3.N), which
# PyInstaller bundles; nothing for another interpreter (it brings its own) or none at all.
bs_libpython_package() {
  local python
  python=$(bs_python)
  command -v "$python" >/dev/null 2>&1 || return 0
  "$python" -c 'import os, sys
if os.path.realpath(sys.executable).startswith("/usr/bin/"):
    print("libpython%d.%d" % sys.version_info[:2])' 2>/dev/null || true
}

# Print those of the given packages that are not installed (one per line).
_bs_missing_packages() {
  local pkg status
  for pkg in "$@"; do
    [[ -n $pkg ]] || continue
    # `dpkg -s` also succeeds for removed-but-not-purged packages; ask for the real state.
    status=$(dpkg-query -W -f='${db:Status-Status}' "$pkg" 2>/dev/null || true)
    if [[ $status != installed ]]; then
      printf '%s\n' "$pkg"
    fi
  done
}

# Make sure the given Debian packages (plus what Python needs for a venv) are installed.
# As root: `apt-get update` once, then install only what is missing. Otherwise: print the exact
# command to run and exit 2. On a system without dpkg, skip with a note.
bs_ensure_system_packages() {
  if ! command -v dpkg-query >/dev/null 2>&1; then
    bs_log "no dpkg here: skipping the Debian package check (install Qt's runtime libraries yourself)"
    return 0
  fi
  local -a wanted missing
  mapfile -t wanted < <(printf '%s\n' "$@"; _bs_python_packages)
  mapfile -t missing < <(_bs_missing_packages "${wanted[@]}" | sort -u)
  if ((${#missing[@]} == 0)); then
    return 0
  fi
  if ((EUID != 0)); then
    {
      printf 'Missing system packages: %s\n' "${missing[*]}"
      printf 'Install them (as root), then run this script again:\n'
      printf '  sudo apt-get install -y --no-install-recommends %s\n' "${missing[*]}"
    } >&2
    exit 2
  fi
  export DEBIAN_FRONTEND=noninteractive
  if ((_BS_APT_UPDATED == 0)); then
    bs_log "apt-get update"
    apt-get update -qq
    _BS_APT_UPDATED=1
  fi
  bs_log "apt-get install ${missing[*]}"
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

# What the current .venv must have been installed from: pyproject.toml and the interpreter.
_bs_venv_fingerprint() {
  {
    sha256sum "$REPO_ROOT/pyproject.toml"
    "$VENV_DIR/bin/python" -c 'import sys; print(sys.version)'
  } | sha256sum | cut -d' ' -f1
}

# Create .venv if needed and `pip install -e '.[dev]'` into it, unless pyproject.toml (and the
# interpreter) are unchanged since the last successful install.
bs_ensure_venv() {
  local python
  python=$(bs_python)
  command -v "$python" >/dev/null 2>&1 || bs_die "$python not found (set PYTHON=...)"
  "$python" -c "import sys; sys.exit(sys.version_info < (3, $MIN_PYTHON_MINOR))" ||
    bs_die "$python is $("$python" -V 2>&1); Python 3.$MIN_PYTHON_MINOR or newer is required (set PYTHON=...)"

  if [[ -e $VENV_DIR ]] && ! "$VENV_DIR/bin/python" -c 'pass' >/dev/null 2>&1; then
    # A venv whose interpreter moved or vanished cannot be repaired in place.
    bs_log "$VENV_DIR is broken: recreating it"
    rm -rf -- "$VENV_DIR"
  fi
  if [[ ! -e $VENV_DIR ]]; then
    bs_log "creating $VENV_DIR with $("$python" -V 2>&1)"
    "$python" -m venv "$VENV_DIR"
  fi

  local fingerprint
  fingerprint=$(_bs_venv_fingerprint)
  if [[ -f $VENV_STAMP && $(<"$VENV_STAMP") == "$fingerprint" &&
        -x $VENV_DIR/bin/llmproxy-desktop && -x $VENV_DIR/bin/pytest ]]; then
    return 0
  fi
  bs_log "pip install -e '.[dev]' into $VENV_DIR"
  "$VENV_DIR/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -e "${REPO_ROOT}[dev]"
  printf '%s\n' "$fingerprint" >"$VENV_STAMP"
}
