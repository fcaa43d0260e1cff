#!/usr/bin/env bash
# Runs a command inside a Debian root, with /proc and /dev mounted for it only.
# Called as: unshare --mount --propagation private -- bash in-root.sh ROOT [VAR=value ...] -- CMD [ARG ...]
# The private mount namespace drops the mounts when the command ends, whatever happens.
set -euo pipefail
root=$1; shift
vars=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do vars+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
# IN_ROOT_READONLY: colon-separated folders of the root that the command may not change.
IFS=: read -r -a readonly_dirs <<< "${IN_ROOT_READONLY:-}"
for dir in "${readonly_dirs[@]}"; do
  [ -n "$dir" ] || continue
  mount --bind "$root/$dir" "$root/$dir"
  mount -o remount,bind,ro "$root/$dir"
done
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# IN_ROOT_EMULATOR: the root is of another architecture, so none of its programs (not even env) runs
# here; chroot starts the emulator (a static binary inside the root) with an empty environment, and
# the emulator gives the command its variables (-E). It is called explicitly: binfmt is not relied
# on. -L /: inside the chroot the root is the guest's /.
if [ -n "${IN_ROOT_EMULATOR:-}" ]; then
  guest_env=()
  for v in PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "${vars[@]}"; do
    guest_env+=(-E "$v")
  done
  exec /usr/bin/env -i "$(command -v chroot)" "$root" "$IN_ROOT_EMULATOR" -L / "${guest_env[@]}" "$@"
fi
exec chroot "$root" /usr/bin/env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  "${vars[@]}" "$@"
