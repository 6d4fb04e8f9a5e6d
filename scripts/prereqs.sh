#!/usr/bin/env bash
# Installs what the build, the demo and the tests need on a fresh Debian/Ubuntu machine, and only
# what is missing. Sourced by scripts/demo.sh and scripts/test.sh (the README's two commands).
set -euo pipefail

if ! command -v dotnet >/dev/null 2>&1; then
  echo "error: the .NET 10 SDK is required (https://dotnet.microsoft.com/download); 'dotnet' is not on PATH." >&2
  exit 1
fi

# Debian packages the native parts need (added by later components; empty means nothing to do).
# prometheus: its promtool checks the alert rules (deploy/prometheus-rules.yml) in the test suite.
# fonts-dejavu-core: a typeface for the PNG charts of `mic report` (SkiaSharp finds no font without one).
MIC_APT_PACKAGES=${MIC_APT_PACKAGES:-"patchelf binutils g++ libfaiss-dev libopenblas-dev redis-server fonts-dejavu-core prometheus"}
# Test-only extras (scripts/test.sh sets MIC_TEST_APT_PACKAGES): Debian's python3-torch runs the
# PyTorch cross-check of the loss code (bench/reference/mic_loss.py); the demo does not need it.
MIC_APT_PACKAGES="$MIC_APT_PACKAGES ${MIC_TEST_APT_PACKAGES:-}"
missing=()
for pkg in $MIC_APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "Installing: ${missing[*]}"
  SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# A real helm binary for the chart checks in the test suite (.tools/bin/helm).
source "$(dirname "${BASH_SOURCE[0]}")/install-helm.sh"

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1
# libtorch/Faiss use OpenMP: never spin-wait on our 2 shared cores (must be set before natives load).
export OMP_WAIT_POLICY=${OMP_WAIT_POLICY:-PASSIVE}
