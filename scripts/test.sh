#!/usr/bin/env bash
# README command 2: every test. Installs what is missing, builds, runs the whole suite.
set -euo pipefail
cd "$(dirname "$0")/.."
MIC_TEST_APT_PACKAGES=${MIC_TEST_APT_PACKAGES-"python3-torch python3-numpy python3-scipy"}
source scripts/prereqs.sh
dotnet build MIC.Streaming.sln -c Release -nologo -v quiet -clp:ErrorsOnly
# Minimal verbosity: failures (with their messages and captured output) and one summary line per test assembly.
dotnet test MIC.Streaming.sln -c Release --no-build -nologo --logger "console;verbosity=minimal" "$@"
# Every `mic` example of the README, run as a newcomer would (shortened; see the script).
bash scripts/try-readme.sh
# The deployed topology as processes (scripts/cluster.sh) under kill -9, a Redis restart and a paused
# broker: every acknowledged click applied once, every query answered (see docs/OPERATIONS.md).
bash scripts/chaos.sh --seconds 90
