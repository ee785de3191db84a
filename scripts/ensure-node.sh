#!/usr/bin/env bash
# Prints the directory of a Node >= 22 binary, bootstrapping one when PATH only has an older Node.
# Policy: use `node` from PATH when its major version is >= 22; otherwise install the npm registry's
# `node@24` package (a real Node 24 binary) into .tools/node and use that. No web downloads.
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
MIN_MAJOR=22
if command -v node >/dev/null 2>&1; then
  major="$(node -p 'process.versions.node.split(".")[0]' 2>/dev/null || echo 0)"
  if [ "$major" -ge "$MIN_MAJOR" ]; then dirname "$(command -v node)"; exit 0; fi
fi
TOOLS="$ROOT/.tools/node"
if [ ! -x "$TOOLS/node_modules/.bin/node" ]; then
  echo "Node on PATH is older than $MIN_MAJOR; installing node@24 from the npm registry into .tools/node" >&2
  mkdir -p "$TOOLS"
  (cd "$TOOLS" && [ -f package.json ] || echo '{"name":"node-bootstrap","private":true}' > "$TOOLS/package.json")
  if ! npm install --prefix "$TOOLS" --no-audit --no-fund --loglevel=error node@24 >&2; then
    echo "ERROR: could not install node@24 from the npm registry. Install Node >= $MIN_MAJOR (24 LTS recommended) and retry." >&2
    exit 1
  fi
fi
echo "$TOOLS/node_modules/.bin"
