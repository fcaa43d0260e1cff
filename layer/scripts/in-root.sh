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
exec chroot "$root" /usr/bin/env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  "${vars[@]}" "$@"
