#!/usr/bin/env bash
# Renders the kustomize base and validates every object against the Kubernetes API schemas (no cluster needed).
# Needs kubectl (for its built-in kustomize) and Node.js with npm.
set -euo pipefail
cd "$(dirname "$0")"
(cd check && npm ci --silent --no-audit --no-fund)
echo "== kubectl kustomize deploy/base | schema check"
kubectl kustomize base | node check/validate.mjs
