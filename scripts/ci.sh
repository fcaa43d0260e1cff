#!/usr/bin/env bash
# Install + test: the one script both CI entry points call (.ci/run, and the GitHub workflow's test
# job), so they cannot drift. It runs the README's test command. As root (CI here) or as a user with
# passwordless sudo (a GitHub runner): setup.sh and the test runner use sudo only for what needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
export CHECKPOINT_DISABLE=1
. scripts/setup.sh && npm test
