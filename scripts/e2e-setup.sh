#!/usr/bin/env bash
# Installs what the end-to-end tests need, once per machine: Debian's chromium and neovim (and ripgrep, libkrb5-dev
# for code-server's native modules), then code-server 4.100.3 (VS Code 1.100, the newest on Node 20) in a
# cache folder outside the repository (playwright-core is a devDependency). Offline-safe: code-server's ripgrep download
# is served from a cache seeded with Debian's rg. Prints the tools folder on its last line.
set -euo pipefail
TOOLS=${YOLLAVA_E2E_TOOLS:-${XDG_CACHE_HOME:-$HOME/.cache}/yollava-e2e}

missing=()
command -v chromium >/dev/null 2>&1 || missing+=(chromium)
command -v rg >/dev/null 2>&1 || missing+=(ripgrep)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
command -v nvim >/dev/null 2>&1 || missing+=(neovim)
if ((${#missing[@]})); then
  if [ "$(id -u)" != 0 ]; then
    echo "e2e setup: ${missing[*]} missing and not root; install them with apt-get" >&2
    exit 1
  fi
  apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >&2
fi

if [ ! -f "$TOOLS/.ready" ]; then
  mkdir -p "$TOOLS"
  cd "$TOOLS"
  tmp=${TMPDIR:-/tmp}
  mkdir -p "$tmp/vscode-ripgrep-cache-1.15.11"
  tar czf "$tmp/vscode-ripgrep-cache-1.15.11/ripgrep-v13.0.0-10-x86_64-unknown-linux-musl.tar.gz" -C "$(dirname "$(command -v rg)")" rg
  # npm 11 runs no dependency install scripts unless the project allows them; code-server needs its own.
  cat > package.json <<'JSON'
{ "name": "yollava-e2e-tools", "private": true, "allowScripts": { "code-server": true, "argon2": true } }
JSON
  npm_config_nodedir=/usr npm_config_yes=true npm_config_unsafe_perm=true npm install --no-audit --no-fund code-server@4.100.3 >&2
  touch .ready
fi
echo "$TOOLS"
