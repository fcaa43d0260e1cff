#!/usr/bin/env bash
# Runs a command (the test suite) in a network namespace that has only loopback, so that a bug in
# a test or in the download guard shows as a refused connection, never as traffic leaving the
# machine. The namespace (and the tests that need root: the layer's chroot smoke test) need root:
# as root it runs directly; as a user with passwordless sudo (a CI runner) it runs through sudo;
# elsewhere it says so and runs the command as is (the root-only tests then fail or skip, naming why).
set -euo pipefail
if [ "${FACE_TEST_NETNS:-}" = loopback-only ]; then exec "$@"; fi
if [ "$(id -u)" != 0 ] && command -v sudo >/dev/null && sudo -n true 2>/dev/null; then
  exec sudo --preserve-env=HOME,CI,XDG_CACHE_HOME,LAYER_CACHE_DIR env "PATH=$PATH" bash "$0" "$@"
fi
if [ "$(id -u)" = 0 ] && command -v unshare >/dev/null && command -v ip >/dev/null && unshare -n true 2>/dev/null; then
  exec unshare -n -- env FACE_TEST_NETNS=loopback-only bash -c 'ip link set lo up && exec "$@"' bash "$@"
fi
echo "[tests] not root, or no unshare/ip: running WITHOUT a loopback-only network namespace" >&2
exec "$@"
