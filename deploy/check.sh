#!/usr/bin/env bash
# Renders both kustomize bases (single pod and cluster) and validates every object against the Kubernetes API
# schemas, then checks that the objects refer to each other (selectors, HPA target, ConfigMaps). No cluster needed.
# Needs kubectl (for its built-in kustomize) and Node.js with npm.
set -euo pipefail
cd "$(dirname "$0")"
(cd check && npm ci --silent --no-audit --no-fund)
for base in base cluster; do
    rendered=$(kubectl kustomize "$base")
    echo "== kubectl kustomize deploy/$base | schema check"
    node check/validate.mjs <<<"$rendered"
    echo "== kubectl kustomize deploy/$base | reference check"
    node check/references.mjs <<<"$rendered"
done
