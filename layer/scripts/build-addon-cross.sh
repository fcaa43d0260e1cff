#!/usr/bin/env bash
# Inside the cross build root: builds the addon for another architecture by running build-addon.sh
# (the same script x86_64 uses, unchanged) with the cross tools in front:
#   - node-gyp targets NODE_GYP_ARCH (it reads npm_config_arch as --arch) and compiles and links
#     with the TRIPLET- tools; Node's headers are the same for every architecture;
#   - the two tools build-addon.sh runs on the result are swapped for cross ones: `strip` is
#     TRIPLET-strip, and `ldd` (which cannot run a foreign binary) prints the NEEDED closure read
#     with TRIPLET-readelf over the target's library folders, in ldd's format.
# Inputs: those of build-addon.sh, plus TRIPLET (aarch64-linux-gnu) and NODE_GYP_ARCH (arm64).
set -euo pipefail
bin=/work/cross-bin
rm -rf "$bin"; mkdir -p "$bin"

printf '#!/bin/sh\nexec %s-strip "$@"\n' "$TRIPLET" > "$bin/strip"

cat > "$bin/ldd" <<'LDD'
#!/usr/bin/env bash
# ldd without running the file: breadth-first over NEEDED, resolved in the target's folders.
set -euo pipefail
dirs=("/lib/$TRIPLET" "/usr/lib/$TRIPLET" "/usr/$TRIPLET/lib")
declare -A seen=()
queue=("$1")
while [ "${#queue[@]}" -gt 0 ]; do
  file=${queue[0]}; queue=("${queue[@]:1}")
  for soname in $("$TRIPLET-readelf" -d "$file" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'); do
    [ -z "${seen[$soname]:-}" ] || continue
    seen[$soname]=1
    found=
    for dir in "${dirs[@]}"; do
      if [ -e "$dir/$soname" ]; then found=$dir/$soname; break; fi
    done
    if [ -n "$found" ]; then
      printf '\t%s => %s (0x0000000000000000)\n' "$soname" "$found"
      queue+=("$found")
    else
      printf '\t%s => not found\n' "$soname"
    fi
  done
done
LDD
chmod 0755 "$bin/strip" "$bin/ldd"

export PATH="$bin:$PATH" TRIPLET
export CC="$TRIPLET-gcc" CXX="$TRIPLET-g++" LINK="$TRIPLET-g++" AR="$TRIPLET-ar"
export npm_config_arch="$NODE_GYP_ARCH"
echo "== cross build for $NODE_GYP_ARCH with $($CXX --version | head -n1)"
exec bash /work/build-addon.sh
