/**
 * verify:layer's static checks of an unzipped layer: every ELF file's architecture, GLIBC/GLIBCXX
 * ceiling and NEEDED libraries (lib/ or the system allowlist); sizes against the budget; the
 * manifest, and the models against their pinned checksums.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { LAYER_BUDGET, LAYER_LAYOUT, models, type ArchTarget } from '../inputs';
import { sha256File } from '../build-kit/cache';
import { isElf, readElf, readElfMachine } from '../build-kit/elf';
import { listFiles } from '../build-kit/files';
import type { LayerManifest } from '../rules/assemble';
import { checkElfFiles, checkSizes, formatElfTable, mb } from '../rules/checks';

/** Checks `opt` (the unzipped layer) and the zip's size; prints what it decided from, adds to `failures`, returns the report's parts. */
export function checkContents(opt: string, zip: string, target: ArchTarget, failures: string[]): { elf: unknown; sizes: unknown; manifest?: LayerManifest } {
  const files = listFiles(opt);

  // ELF
  const libDir = path.join(opt, LAYER_LAYOUT.lib);
  const layerLibs = new Set(fs.existsSync(libDir) ? fs.readdirSync(libDir) : []);
  const elfFiles = files
    .filter((f) => isElf(path.join(opt, f)))
    .map((f) => ({ file: f, bytes: fs.statSync(path.join(opt, f)).size, info: readElf(path.join(opt, f)), machine: readElfMachine(path.join(opt, f)) }));
  if (!elfFiles.some((f) => f.file.endsWith('opencv4nodejs.node'))) failures.push('the addon (opencv4nodejs.node) is not in the zip');
  if (!elfFiles.some((f) => f.file === `${LAYER_LAYOUT.jpegLossless}/jpeg_lossless.node`)) failures.push('our jpeg-lossless addon (jpeg_lossless.node) is not in the zip');
  const rows = checkElfFiles(elfFiles, layerLibs, {
    maxGlibc: LAYER_BUDGET.maxGlibc,
    maxGlibcxx: LAYER_BUDGET.maxGlibcxx,
    systemLibraries: target.systemLibraries,
    machine: target.elfMachine,
  });
  console.log(
    `ELF files (${target.elfMachine.name}; ceilings GLIBC ${LAYER_BUDGET.maxGlibc}, GLIBCXX ${LAYER_BUDGET.maxGlibcxx}; system: ${target.systemLibraries.join(' ')})\n`,
  );
  console.log(formatElfTable(rows));
  rows.forEach((r) => r.problems.forEach((p) => failures.push(`${r.file}: ${p}`)));

  // Sizes, manifest, models
  const unzipped = files.reduce((sum, f) => sum + fs.statSync(path.join(opt, f)).size, 0);
  const sizes = checkSizes(fs.statSync(zip).size, unzipped, LAYER_BUDGET);
  console.log(
    `\nsize: ${mb(sizes.zippedBytes)} zipped (budget ${mb(LAYER_BUDGET.zippedBytes)}), ` +
      `${mb(sizes.unzippedBytes)} unzipped (budget ${mb(LAYER_BUDGET.unzippedBytes)}; Lambda allows 250 MB), ${files.length} files`,
  );
  failures.push(...sizes.problems);
  const manifestFile = path.join(opt, LAYER_LAYOUT.manifest);
  if (!fs.existsSync(manifestFile)) {
    failures.push('manifest.json is missing');
    return { elf: rows, sizes };
  }
  const manifest: LayerManifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
  console.log(`manifest: OpenCV ${manifest.opencv.version} (${manifest.opencv.source}), ${manifest.addon.name} ${manifest.addon.version}, Node ABI ${manifest.addon.nodeAbi}, ${manifest.architecture}`);
  if (manifest.architecture !== target.arch) failures.push(`manifest says ${manifest.architecture}, expected ${target.arch}`);
  for (const model of models) {
    const file = path.join(opt, LAYER_LAYOUT.models, model.file);
    const listed = manifest.models.find((m) => m.file === model.file);
    if (!fs.existsSync(file)) failures.push(`model ${model.file} is missing`);
    else if (sha256File(file) !== model.sha256) failures.push(`model ${model.file} does not match its pinned sha256`);
    else if (!listed || listed.sha256 !== model.sha256) failures.push(`manifest does not record ${model.file} with its sha256`);
    else console.log(`model: ${listed.path} ${listed.sha256.slice(0, 16)}… ok`);
    if ('repoPath' in model.source && !fs.existsSync(path.join(opt, LAYER_LAYOUT.licenses, `model-${model.file}.txt`))) failures.push(`model ${model.file}'s licence (licenses/model-${model.file}.txt) is missing`);
  }
  return { elf: rows, sizes, manifest };
}
