#!/usr/bin/env bash
# Copies the licence of the Debian package that owns FILE to OUTDIR/<package>.txt, or fails: a
# library shipped without its licence is an error, never a silent gap.
#   licence-of.sh FILE OUTDIR
# The owner is asked of dpkg under each name FILE has: as given, resolved, and with or without /usr
# (a merged-/usr root resolves /lib/... to /usr/lib/..., while dpkg records the name the package
# installed). DOC_ROOT (default /usr/share/doc) is where the copyright files are.
set -euo pipefail
[ "$#" -eq 2 ] || { echo "usage: licence-of.sh FILE OUTDIR" >&2; exit 2; }
file=$1 outdir=$2
doc_root=${DOC_ROOT:-/usr/share/doc}
real=$(readlink -m -- "$file")
names=()
for name in "$file" "$real"; do
  names+=("$name")
  case $name in
    /usr/*) names+=("${name#/usr}") ;;
    /*) names+=("/usr$name") ;;
  esac
done
owner=
for name in "${names[@]}"; do
  if found=$(dpkg -S "$name" 2>/dev/null | head -n1); then
    owner=${found%%:*}
    owner=${owner%%,*}
    break
  fi
done
[ -n "$owner" ] || { echo "licence-of.sh: no Debian package owns $file (looked up as: ${names[*]})" >&2; exit 1; }
copyright=$doc_root/$owner/copyright
[ -f "$copyright" ] || { echo "licence-of.sh: $file comes from $owner, which has no $copyright" >&2; exit 1; }
mkdir -p "$outdir"
cp "$copyright" "$outdir/$owner.txt"
echo "licence: $owner <- $file"
