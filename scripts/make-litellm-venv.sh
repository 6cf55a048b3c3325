#!/usr/bin/env bash
# Create (idempotently) the separate virtualenv that holds the real LiteLLM used as a test ORACLE.
#
#   scripts/make-litellm-venv.sh            -> <repo>/.venv-litellm
#   LLMPROXY_LITELLM_VENV=/x scripts/...    -> /x
#
# The project venv never imports litellm: tests shell out to "<venv>/bin/python" instead.
# A complete venv carries a marker file recording exactly what was installed; when the marker
# matches and the import check passes, the script exits at once (re-runs take well under a second).
# Cost of a fresh build: ~35-45 s, ~760 MB (PyPI only; no other network access is needed).
set -euo pipefail

LITELLM_VERSION="1.108.7"
# prometheus_client: configs with `callbacks: ["prometheus"]` fail --validate_config without it.
EXTRA_PACKAGES=("prometheus_client==0.26.0")
MARKER_NAME=".llmproxy-litellm-venv"
MARKER_CONTENT="litellm[proxy]==${LITELLM_VERSION} ${EXTRA_PACKAGES[*]}"

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
venv="${LLMPROXY_LITELLM_VENV:-${repo_root}/.venv-litellm}"
marker="${venv}/${MARKER_NAME}"

check_venv() {
    # The venv is usable when the marker matches and litellm + prometheus_client import with the
    # pinned version (cheap: importlib.metadata does not import litellm itself).
    [[ -f "${marker}" ]] || return 1
    [[ "$(cat "${marker}")" == "${MARKER_CONTENT}" ]] || return 1
    [[ -x "${venv}/bin/python" && -x "${venv}/bin/litellm" ]] || return 1
    "${venv}/bin/python" - "${LITELLM_VERSION}" <<'EOF' || return 1
import importlib.metadata as md
import importlib.util
import sys

assert md.version("litellm") == sys.argv[1], md.version("litellm")
assert importlib.util.find_spec("prometheus_client") is not None
EOF
}

if check_venv; then
    echo "LiteLLM venv ready: ${venv} (litellm ${LITELLM_VERSION})"
    exit 0
fi

python_bin="${LLMPROXY_PYTHON:-}"
if [[ -z "${python_bin}" ]]; then
    for candidate in python3.11 python3; do
        if command -v "${candidate}" >/dev/null 2>&1; then
            python_bin="$(command -v "${candidate}")"
            break
        fi
    done
fi
if [[ -z "${python_bin}" ]]; then
    echo "make-litellm-venv: no python3.11/python3 found (set LLMPROXY_PYTHON)" >&2
    exit 1
fi

start=$(date +%s)
echo "Creating LiteLLM venv at ${venv} with ${python_bin} ..."
rm -f "${marker}"
if [[ ! -x "${venv}/bin/python" ]]; then
    # A half-built directory without a python is useless: start over.
    rm -rf "${venv}"
    "${python_bin}" -m venv "${venv}"
fi
"${venv}/bin/python" -m pip install --quiet --upgrade pip
"${venv}/bin/python" -m pip install --quiet "litellm[proxy]==${LITELLM_VERSION}" "${EXTRA_PACKAGES[@]}"

printf '%s' "${MARKER_CONTENT}" > "${marker}"
if ! check_venv; then
    rm -f "${marker}"
    echo "make-litellm-venv: install finished but the import check failed" >&2
    exit 1
fi
echo "LiteLLM venv created: ${venv} in $(( $(date +%s) - start )) s"
