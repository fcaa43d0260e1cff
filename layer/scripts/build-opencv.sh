#!/usr/bin/env bash
# Inside the build root: configure, compile and install OpenCV into /opt.
# Inputs: /work/opencv-src (extracted source), /work/cmake-flags.txt (one flag a line), JOBS, BUILD_LIST.
set -euo pipefail
mapfile -t flags < /work/cmake-flags.txt
# Reproducible bytes: OpenCV's build information records the build machine's kernel release
# (uname -r); report a fixed one to cmake, and pin the time any tool may stamp.
# (The shim lives in /work: the sandbox writes nothing else.)
mkdir -p /work/bin
cat > /work/bin/uname <<'UNAME'
#!/bin/sh
case "$1" in
  -r) echo 5.10.0-reproducible ;;
  -v) echo '#1 SMP' ;;
  *) exec /bin/uname "$@" ;;
esac
UNAME
chmod +x /work/bin/uname
export PATH=/work/bin:$PATH
export SOURCE_DATE_EPOCH=946684800
rm -rf /work/opencv-build /opt/*
mkdir -p /work/opencv-build
cd /work/opencv-build
echo "== cmake configure"
cmake -S /work/opencv-src -B . -DBUILD_LIST="$BUILD_LIST" "${flags[@]}"
echo "== compile with $JOBS jobs"
cmake --build . -j "$JOBS"
echo "== install"
cmake --install .
echo "== installed libraries"
ls -la /opt/lib
