#!/usr/bin/env bash
# README command 1: the main job. Installs what is missing, builds, and runs `mic demo`
# (extra arguments are passed through, e.g. --data ../shared/data/... --format s3rec).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/prereqs.sh
dotnet build src/MIC.Streaming.Cli -c Release -nologo -v quiet -clp:ErrorsOnly
exec dotnet src/MIC.Streaming.Cli/bin/Release/net10.0/mic.dll demo "$@"
