#!/usr/bin/env bash
# Inside the build root: compile @u4/opencv4nodejs against the OpenCV in /opt and Node 24's headers
# in /node, then copy the addon and every shared library it needs (minus what Amazon Linux 2023
# provides) into /work/out, stripped, with a RUNPATH that keeps the layer relocatable.
# Inputs: JOBS, SYSTEM_LIBS (space-separated sonames the target system provides),
#         ADDON_MODULES (space-separated OpenCV modules the addon binds).
#
# OpenCV is static (/opt/lib/libopencv_*.a). The addon's installer finds modules by looking for
# libopencv_<module>.so in OPENCV_LIB_DIR and links them with -lopencv_<module>; here each such
# file is a GNU ld script naming one group of all OpenCV archives (so their order does not matter)
# plus the system libraries they use, linked dynamically. Only modules in ADDON_MODULES get a
# script, so the addon compiles bindings only for those. --gc-sections drops what nothing uses;
# --exclude-libs keeps OpenCV's symbols out of the addon's export table.
set -euo pipefail
export PATH=/node/bin:$PATH
cvlib=/work/cvlib
rm -rf "$cvlib"; mkdir -p "$cvlib"
archives=$(ls /opt/lib/libopencv_*.a | tr '\n' ' ')
for module in $ADDON_MODULES; do
  [ -f "/opt/lib/libopencv_$module.a" ] || { echo "OpenCV module $module was not built" >&2; exit 1; }
  printf 'GROUP ( %s )\nINPUT ( AS_NEEDED ( -lprotobuf -ljpeg -lpng16 -lwebp -lz -ldl -lpthread ) )\n' "$archives" > "$cvlib/libopencv_$module.so"
done
export OPENCV4NODEJS_DISABLE_AUTOBUILD=1 OPENCV_INCLUDE_DIR=/opt/include/opencv4 OPENCV_LIB_DIR=$cvlib OPENCV_BIN_DIR=/opt/bin
export LDFLAGS="-Wl,--gc-sections -Wl,--exclude-libs,ALL -Wl,--as-needed"
export npm_config_nodedir=/node
pkg=/work/addon/node_modules/@u4/opencv4nodejs
cd "$pkg"
echo "== node-gyp rebuild (node $(node --version), modules ABI $(node -p process.versions.modules))"
node /work/addon/node_modules/node-gyp/bin/node-gyp.js rebuild --nodedir=/node --jobs="$JOBS"

out=/work/out
rm -rf "$out"; mkdir -p "$out/addon" "$out/lib" "$out/licenses"
cp build/Release/opencv4nodejs.node "$out/addon/"
strip --strip-unneeded "$out/addon/opencv4nodejs.node"
# nodejs/node_modules/@u4/opencv4nodejs/build/Release -> six levels up is the layer root.
patchelf --set-rpath '$ORIGIN/../../../../../../lib' "$out/addon/opencv4nodejs.node"

echo "== shared library closure"
is_system() { local n; for n in $SYSTEM_LIBS; do [ "$n" = "$1" ] && return 0; done; return 1; }
ldd build/Release/opencv4nodejs.node | tee /work/ldd.txt
missing=$(grep 'not found' /work/ldd.txt || true)
[ -z "$missing" ] || { echo "unresolved libraries: $missing" >&2; exit 1; }
awk '$2 == "=>" && $3 ~ /^\// { print $1, $3 }' /work/ldd.txt | while read -r soname file; do
  if is_system "$soname"; then echo "system: $soname"; continue; fi
  echo "ship:   $soname <- $file"
  cp -L "$file" "$out/lib/$soname"
  chmod 0755 "$out/lib/$soname"
  strip --strip-unneeded "$out/lib/$soname"
  patchelf --set-rpath '$ORIGIN' "$out/lib/$soname"
  # Licence of the package that owns it (OpenCV itself is linked in statically; its licence follows).
  bash /work/licence-of.sh "$file" "$out/licenses"
done
cp /opt/share/licenses/opencv4/LICENSE "$out/licenses/opencv.txt" 2>/dev/null || cp /work/opencv-src/LICENSE "$out/licenses/opencv.txt"
cp "$pkg/LICENSE" "$out/licenses/opencv4nodejs.txt"
ls -la "$out/addon" "$out/lib" "$out/licenses"
