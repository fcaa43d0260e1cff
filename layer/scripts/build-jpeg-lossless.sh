#!/usr/bin/env bash
# Inside the build root: compiles our jpeg-lossless Node-API addon (layer/jpeg-lossless/) against the
# root's libjpeg62-turbo, the same libjpeg.so.62 OpenCV links and the layer ships in lib/, and
# Node's headers in /node/include. Writes /work/out/jpeg_lossless.node, stripped, with a RUNPATH
# that finds the layer's lib/ from nodejs/node_modules/@facedetect/jpeg-lossless/.
# Inputs: /work/jpeg_lossless.c; TRIPLET (x86_64-linux-gnu or aarch64-linux-gnu: the compiler
# prefix and library folder, so one script serves the native and the cross build).
set -euo pipefail
cc="$TRIPLET-gcc"
strip="$TRIPLET-strip"
readelf="$TRIPLET-readelf"
out=/work/out
rm -rf "$out"; mkdir -p "$out"
echo "== $($cc --version | head -n1), libjpeg $(sed -n 's/^#define LIBJPEG_TURBO_VERSION \(.*\)/\1/p' /usr/include/$TRIPLET/jconfig.h 2>/dev/null || echo '?')"
# Node-API only (node_api.h): the binary does not depend on Node's ABI version.
"$cc" -O2 -std=c11 -D_DEFAULT_SOURCE -Wall -Wextra -Werror -fPIC -fvisibility=hidden -shared \
  -DNODE_GYP_MODULE_NAME=jpeg_lossless -I/node/include/node \
  -Wl,--as-needed -Wl,-z,relro -Wl,-z,now \
  -o "$out/jpeg_lossless.node" /work/jpeg_lossless.c -ljpeg -lm
"$strip" --strip-unneeded "$out/jpeg_lossless.node"
# nodejs/node_modules/@facedetect/jpeg-lossless -> four levels up is the layer root.
patchelf --set-rpath '$ORIGIN/../../../../lib' "$out/jpeg_lossless.node"
"$readelf" -d "$out/jpeg_lossless.node" | tee /work/dynamic.txt
needed=$(sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p' /work/dynamic.txt | sort | tr '\n' ' ')
[ "$needed" = "libc.so.6 libjpeg.so.62 libm.so.6 " ] || { echo "unexpected NEEDED: $needed" >&2; exit 1; }
ls -la "$out"
