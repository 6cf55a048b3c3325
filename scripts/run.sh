#!/usr/bin/env bash
# THE one command that launches LLM-Proxy Desktop from a source checkout.
#
#   scripts/run.sh [ARGS...]     e.g. scripts/run.sh, scripts/run.sh validate config/config.yaml
#
# Installs the Qt runtime libraries for a real X11 display when missing (as root; otherwise
# prints the apt command and exits 2), creates/updates .venv, then runs the app with ARGS.
set -euo pipefail

# shellcheck source=scripts/bootstrap.sh
source "$(dirname -- "${BASH_SOURCE[0]}")/bootstrap.sh"

bs_ensure_system_packages "${QT_XCB_PACKAGES[@]}"
bs_ensure_venv

if (($# == 0)) && [[ $(uname -s) == Linux ]] &&
   [[ -z ${DISPLAY:-} && -z ${WAYLAND_DISPLAY:-} && -z ${QT_QPA_PLATFORM:-} ]]; then
  # Without this, Qt aborts with a core dump and blames a missing xcb-cursor0, which misleads.
  bs_die "no display: DISPLAY and WAYLAND_DISPLAY are unset, so the window cannot open." \
    "The CLI subcommands work without one (scripts/run.sh --help)."
fi

exec "$VENV_DIR/bin/llmproxy-desktop" "$@"
