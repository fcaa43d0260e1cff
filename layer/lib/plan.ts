/** The layer build's cache plan: where each stage's output lives, keyed by a hash of its inputs. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { addon, CACHE_DIR, models, node, opencv, type ArchTarget } from '../inputs';
import { CacheEntry, cacheKey } from './cache';
import { buildRootEntry } from './roots';

export const SCRIPTS = path.resolve(__dirname, '..', 'scripts');
const LAYER_DIR = path.resolve(__dirname, '..');

function fileText(file: string): string {
  return fs.readFileSync(file, 'utf8');
}

export interface Plan {
  target: ArchTarget;
  rootEntry: CacheEntry;
  sourceFile: string;
  opencvEntry: CacheEntry;
  addonEntry: CacheEntry;
  layerKey: string;
  layerZip: string;
}

/** What a cross build adds to the OpenCV step's environment (the target's pkg-config files only). */
export function crossEnv(target: ArchTarget): Record<string, string> {
  return target.emulator ? { PKG_CONFIG_LIBDIR: `/usr/lib/${target.gnuTriplet}/pkgconfig:/usr/share/pkgconfig` } : {};
}

/**
 * Cache keys of every stage: each covers its own inputs and the key of the stage before it.
 * x86_64's keys are computed exactly as before arm64 existed; a cross build adds its own inputs.
 */
export function plan(target: ArchTarget): Plan {
  const rootEntry = buildRootEntry(target);
  const cross = !!target.emulator;
  // Keys hold inputs only, never the cache's own location.
  const opencvKey = cacheKey(
    path.basename(rootEntry.dir),
    opencv.sha256,
    opencv.modules,
    target.cmakeFlags,
    fileText(path.join(SCRIPTS, 'build-opencv.sh')),
    ...(cross ? [fileText(path.join(SCRIPTS, 'toolchain-aarch64.cmake')), crossEnv(target)] : []),
  );
  const addonKey = cacheKey(
    opencvKey,
    node.version,
    fileText(path.join(addon.lockDir, 'package-lock.json')),
    fileText(path.join(SCRIPTS, 'build-addon.sh')),
    target.systemLibraries,
    opencv.addonModules,
    ...(cross ? [fileText(path.join(SCRIPTS, 'build-addon-cross.sh')), target.gnuTriplet, target.arch] : []),
  );
  const layerKey = cacheKey(
    addonKey,
    models.map((m) => m.sha256),
    fileText(path.join(LAYER_DIR, 'lib', 'assemble.ts')),
    fileText(path.join(LAYER_DIR, 'runtime', 'opencv-build-shim.js')),
  );
  // Folder names: x86_64's as they always were, arm64's say so.
  const tag = cross ? `${target.arch}-` : '';
  return {
    target,
    rootEntry,
    sourceFile: path.join(CACHE_DIR, 'downloads', opencv.file),
    opencvEntry: new CacheEntry(path.join(CACHE_DIR, 'opencv', `${opencv.version}-${tag}${opencvKey}`)),
    addonEntry: new CacheEntry(path.join(CACHE_DIR, 'addon', `${addon.version}-${tag}${addonKey}`)),
    layerKey,
    layerZip: path.join(CACHE_DIR, 'layers', `${tag}${layerKey}.zip`),
  };
}

