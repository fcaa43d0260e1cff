#!/usr/bin/env bash
# Runs a command inside a Debian root, with /proc and /dev mounted for it only.
# Called as:
#   unshare --mount --propagation private -- bash in-root.sh [OPTION ...] ROOT [VAR=value ...] -- CMD [ARG ...]
# Options (each value a separate argument):
#   --overlay SCRATCH     run in an overlay over ROOT, so ROOT itself is never written: the command's
#                         changes go to SCRATCH/upper (the caller deletes SCRATCH)
#   --bind FROM TO        mount the host's FROM at TO inside the root (needs --overlay)
#   --bind-ro FROM TO     the same, read-only
#   --emulator PATH       ROOT is of another architecture; PATH (inside ROOT) runs CMD
# The private mount namespace drops the mounts when the command ends, whatever happens.
set -euo pipefail
overlay=
emulator=
binds=()
while [ "$#" -gt 0 ]; do
  case $1 in
    --overlay) overlay=$2; shift 2 ;;
    --bind | --bind-ro) binds+=("$1" "$2" "$3"); shift 3 ;;
    --emulator) emulator=$2; shift 2 ;;
    *) break ;;
  esac
done
root=$1; shift
vars=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do vars+=("$1"); shift; done
[ "${1:-}" = "--" ] && shift

if [ -n "$overlay" ]; then
  mkdir -p "$overlay/upper" "$overlay/work" "$overlay/root"
  mount -t overlay overlay -o "lowerdir=$root,upperdir=$overlay/upper,workdir=$overlay/work" "$overlay/root"
  root=$overlay/root
fi
for ((i = 0; i < ${#binds[@]}; i += 3)); do
  kind=${binds[i]} from=${binds[i + 1]} to=${binds[i + 2]}
  dest=$root$to
  if [ -d "$from" ]; then
    mkdir -p "$dest"
  else
    mkdir -p "$(dirname "$dest")"
    [ -e "$dest" ] || : > "$dest"
  fi
  mount --bind "$from" "$dest"
  if [ "$kind" = --bind-ro ]; then mount -o remount,bind,ro "$dest"; fi
done
mount -t proc proc "$root/proc"
mount --rbind /dev "$root/dev"
cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
# With an emulator the root is of another architecture, so none of its programs (not even env) runs
# here; chroot starts the emulator (a static binary inside the root) with an empty environment, and
# the emulator gives the command its variables (-E). It is called explicitly: binfmt is not relied
# on. -L /: inside the chroot the root is the guest's /.
if [ -n "$emulator" ]; then
  guest_env=()
  for v in PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 "${vars[@]}"; do
    guest_env+=(-E "$v")
  done
  exec /usr/bin/env -i "$(command -v chroot)" "$root" "$emulator" -L / "${guest_env[@]}" "$@"
fi
exec chroot "$root" /usr/bin/env -i \
  PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LANG=C.UTF-8 \
  "${vars[@]}" "$@"
