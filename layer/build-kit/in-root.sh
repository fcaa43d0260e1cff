#!/usr/bin/env bash
# Runs a command inside a Debian root, with /proc and /dev mounted for it only.
# Called as (layer/build-kit's inRoot builds this argv and checks it first):
#   unshare --mount --propagation private -- bash in-root.sh [OPTION ...] ROOT [NAME=value ...] -- CMD [ARG ...]
# Options (each value its own argument, whatever it holds):
#   --overlay SCRATCH     run in an overlay over ROOT, so ROOT itself is never written: the command's
#                         changes go to SCRATCH/upper (the caller deletes SCRATCH)
#   --bind FROM TO        mount the host's FROM at TO inside the root (needs --overlay)
#   --bind-ro FROM TO     the same, read-only
#   --emulator PATH       ROOT is of another architecture; PATH (inside ROOT) runs CMD
#   --sandbox UID         run CMD with no network (a new network namespace: only a down `lo`), in
#                         its own PID namespace (it is PID 1; it sees no host process) and as a
#                         mapped root: root inside a user namespace, the unprivileged UID outside
#                         (it can write only what --bind hands it, chowned to UID for the run and
#                         back to root after). Where the kernel refuses user namespaces, as real
#                         root, still without network and in its own PID namespace (said on stderr).
#                         HOME is /tmp there. Needs --overlay.
#   --dry-run             change nothing: print each command it would run (mounts, then the exec) as
#                         its argument count and arguments, each NUL-terminated
# The command gets exactly PATH, HOME, LANG and the NAME=value variables; nothing after `--` is
# interpreted (an argument may look like an option, a variable or `--`). The private mount namespace
# drops the mounts when the command ends, whatever happens.
set -euo pipefail
# Byte-wise matching of names, whatever the caller's locale (not exported: the command gets none of it).
LC_ALL=C
usage() { echo "in-root.sh: $*" >&2; exit 2; }
dry=
overlay=
emulator=
sandbox=
binds=()
while [ "$#" -gt 0 ]; do
  case $1 in
    --dry-run) dry=1; shift ;;
    --overlay) [ "$#" -ge 2 ] || usage "--overlay needs SCRATCH"; overlay=$2; shift 2 ;;
    --bind | --bind-ro) [ "$#" -ge 3 ] || usage "$1 needs FROM and TO"; binds+=("$1" "$2" "$3"); shift 3 ;;
    --emulator) [ "$#" -ge 2 ] || usage "--emulator needs PATH"; emulator=$2; shift 2 ;;
    --sandbox) [ "$#" -ge 2 ] || usage "--sandbox needs UID"; sandbox=$2; shift 2 ;;
    -*) usage "unknown option $1" ;;
    *) break ;;
  esac
done
[ "$#" -gt 0 ] || usage "ROOT missing"
root=$1; shift
[[ $root == /* ]] || usage "ROOT must be an absolute path: $root"
vars=()
while [ "$#" -gt 0 ] && [ "$1" != "--" ]; do
  [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*= ]] || usage "not NAME=value: $1"
  vars+=("$1"); shift
done
[ "$#" -ge 2 ] || usage "-- CMD [ARG ...] missing"
shift
[ -n "$1" ] || usage "CMD is empty"
[ "${#binds[@]}" -eq 0 ] || [ -n "$overlay" ] || usage "--bind needs --overlay (the mount points are made in the overlay, never in ROOT)"
[ -z "$sandbox" ] || [[ $sandbox =~ ^[1-9][0-9]*$ ]] || usage "--sandbox needs a numeric UID other than 0: $sandbox"
[ -z "$sandbox" ] || [ -n "$overlay" ] || usage "--sandbox needs --overlay"
for ((i = 0; i < ${#binds[@]}; i += 3)); do
  to=${binds[i + 2]}
  [[ $to == /* && /$to/ != */../* ]] || usage "mount target must be an absolute path without ..: $to"
done

run() {
  if [ -n "$dry" ]; then printf '%s\0' "$#" "$@"; else "$@"; fi
}
# A mount target inside the root must not pass through a symbolic link: mount would follow it,
# out of the root if it is absolute.
no_links() {
  local at=$1 part
  local -a parts
  IFS=/ read -r -a parts <<< "${2#/}"
  for part in "${parts[@]}"; do
    at=$at/$part
    [ ! -L "$at" ] || usage "mount target $2 passes through the symbolic link ${at#"$root"}"
  done
}

if [ -n "$overlay" ]; then
  run mkdir -p "$overlay/upper" "$overlay/work" "$overlay/root"
  run mount -t overlay overlay -o "lowerdir=$root,upperdir=$overlay/upper,workdir=$overlay/work" "$overlay/root"
  root=$overlay/root
fi
for ((i = 0; i < ${#binds[@]}; i += 3)); do
  kind=${binds[i]} from=${binds[i + 1]} to=${binds[i + 2]}
  dest=$root$to
  [ -n "$dry" ] || no_links "$root" "$to"
  if [ -d "$from" ]; then
    run mkdir -p "$dest"
  else
    run mkdir -p "$(dirname "$dest")"
    [ -n "$dry" ] || [ -e "$dest" ] || : > "$dest"
  fi
  run mount --bind "$from" "$dest"
  if [ "$kind" = --bind-ro ]; then run mount -o remount,bind,ro "$dest"; fi
done
# The sandboxed command mounts its own /proc (of its own PID namespace); it has no network to resolve names on.
if [ -z "$sandbox" ]; then
  run mount -t proc proc "$root/proc"
fi
run mount --rbind /dev "$root/dev"
if [ -z "$dry" ] && [ -z "$sandbox" ]; then
  # Name resolution for apt inside the root; a link there is replaced, never followed.
  if [ -L "$root/etc/resolv.conf" ]; then rm -f "$root/etc/resolv.conf"; fi
  cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
fi

# The host's env empties the environment and sets the variables; the host's chroot enters the root
# and runs CMD there (through PATH) with exactly those. `--` ends chroot's options, so CMD may
# start with a dash. With an emulator the root is of another architecture, so none of its programs
# runs here: chroot starts the emulator (a static binary inside the root, called explicitly: binfmt
# is not relied on), which hands its environment to the command; -L /: inside the chroot the root
# is the guest's /; `--` ends the emulator's options.
host_bin() {
  local found
  found=$(command -v "$1") || usage "$1 is not installed"
  [[ $found == /* && $found != *=* ]] || usage "$1 is not at a plain absolute path: $found"
  printf '%s' "$found"
}
chroot_bin=$(host_bin chroot)
home=/root
[ -z "$sandbox" ] || home=/tmp
base=(PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin "HOME=$home" LANG=C.UTF-8)
if [ -n "$emulator" ]; then
  set -- "$emulator" -L / -- "$@"
fi
if [ -z "$sandbox" ]; then
  if [ -n "$dry" ]; then
    run env -i "${base[@]}" "${vars[@]}" "$chroot_bin" -- "$root" "$@"
    exit 0
  fi
  exec env -i "${base[@]}" "${vars[@]}" "$chroot_bin" -- "$root" "$@"
fi

# Sandboxed. A user namespace cannot be made from inside a chroot, and the mapped user cannot
# walk to the root's path (it may sit under a private folder): the namespaces come first, from
# the root's own folder as working directory, and chroot enters `.` last.
setpriv_bin=$(host_bin setpriv)
unshare_bin=$(host_bin unshare)
as_user=("$setpriv_bin" "--reuid=$sandbox" "--regid=$sandbox" --clear-groups --)
namespaces=(--net --pid --fork --kill-child --mount --mount-proc=proc)
if [ -n "$dry" ] || "${as_user[@]}" "$unshare_bin" --user --map-root-user true 2>/dev/null; then
  wrap=("${as_user[@]}" "$unshare_bin" --user --map-root-user "${namespaces[@]}" --)
else
  echo "in-root.sh: this kernel refuses user namespaces here: running as real root, still without network and in its own PID namespace" >&2
  wrap=("$unshare_bin" "${namespaces[@]}" --)
fi
writable=()
for ((i = 0; i < ${#binds[@]}; i += 3)); do
  [ "${binds[i]}" = --bind ] && writable+=("$root${binds[i + 2]}")
done
if [ "${#writable[@]}" -gt 0 ]; then run chown -R "$sandbox:$sandbox" -- "${writable[@]}"; fi
[ -n "$dry" ] || cd "$root"
status=0
run env -i "${base[@]}" "${vars[@]}" "${wrap[@]}" "$chroot_bin" -- . "$@" || status=$?
if [ "${#writable[@]}" -gt 0 ]; then run chown -R 0:0 -- "${writable[@]}"; fi
exit "$status"
