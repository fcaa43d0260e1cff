#!/usr/bin/env bash
# Inside the build root: configure, compile and install OpenCV into /opt.
# Inputs: /work/opencv-src (extracted source), /work/cmake-flags.txt (one flag a line), JOBS, BUILD_LIST.
set -euo pipefail
mapfile -t flags < /work/cmake-flags.txt
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
