/**
 * `npm run verify:layer [-- --arch x86_64|arm64] [--no-smoke] [zip]`: proves the layer zip will load
 * on Lambda's runtime for that architecture (x86_64 unless `--arch` says otherwise).
 *
 *   1. contents (verify/contents.ts): every binary's architecture, GLIBC/GLIBCXX ceiling and each
 *      NEEDED library (lib/ or the allowlist); sizes against the budget; manifest and model checksums
 *   2. rebuild (verify/rebuild.ts): whether the Debian archive still has the build root's package
 *      versions the manifest records (a rebuild would differ where it does not); said, not failed
 *   3. smoke (verify/smoke.ts): the layer alone in a clean root, in Lambda's environment
 *
 * Prints what it decided from, writes layer/dist/verify-report*.json, exits non-zero on any failure.
 * `--no-smoke` runs 1-2 only (no root needed).
 */
import { execFileSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { debian, LAYER_ARCH, layerZipPath, verifyReportPath } from './inputs';
import { sha256File } from './build-kit/cache';
import { LockBusy } from './build-kit/lock';
import { debianMirror, requireCommands } from './build-kit/prerequisites';
import { MissingPrerequisite } from './build-kit/steps';
import { parseArchArgs, targetFor, UsageError } from './rules/arch';
import { checkContents } from './verify/contents';
import { checkRebuild } from './verify/rebuild';
import { smokeTest } from './verify/smoke';

async function main(): Promise<void> {
  const { arch, rest: args } = parseArchArgs(process.argv.slice(2));
  const target = targetFor(arch);
  const smoke = !args.includes('--no-smoke');
  const unknown = args.find((a) => a.startsWith('--') && a !== '--no-smoke');
  if (unknown) throw new UsageError(`unknown option ${unknown}; usage: verify:layer [-- --arch x86_64|arm64] [--no-smoke] [zip]`);
  const zip = path.resolve(args.find((a) => !a.startsWith('--')) ?? layerZipPath(arch));
  const build = arch === LAYER_ARCH ? 'npm run build:layer' : `npm run build:layer -- --arch ${arch}`;
  if (!fs.existsSync(zip)) throw new MissingPrerequisite(`no layer at ${zip}: build it with \`${build}\``);
  requireCommands(['unzip', 'readelf', 'xz']);
  const failures: string[] = [];
  const report: Record<string, unknown> = { arch, zip: path.relative(process.cwd(), zip), zipSha256: sha256File(zip) };

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'layer-verify-'));
  try {
    const opt = path.join(work, 'opt');
    execFileSync('unzip', ['-q', zip, '-d', opt]);
    const { elf, sizes, manifest } = checkContents(opt, zip, target, failures);
    Object.assign(report, { elf, sizes, manifest });

    if (manifest?.buildRoot) {
      const rebuild = await checkRebuild(manifest.buildRoot.packages, debianMirror().url, manifest.buildRoot.suite ?? debian.suite);
      if (!rebuild.checked) console.log(`rebuild: could not ask the Debian archive whether a rebuild would take the same ${rebuild.packages} packages (${rebuild.error})`);
      else if (rebuild.differences.length === 0) console.log(`rebuild: the archive still has all ${rebuild.packages} package versions of the build root: a rebuild takes the same`);
      else console.log(`rebuild: a rebuild would differ in ${rebuild.differences.length} of ${rebuild.packages} packages of the build root:\n${rebuild.differences.map((d) => `  ${d}`).join('\n')}`);
      report.rebuild = rebuild;
    } else if (manifest) {
      failures.push('the manifest does not record the build root\'s Debian packages (built before it did: rebuild)');
    }

    if (smoke) report.smoke = await smokeTest(opt, target, failures);
  } finally {
    fs.rmSync(work, { recursive: true, force: true });
  }

  report.failures = failures;
  fs.mkdirSync(path.dirname(verifyReportPath(arch)), { recursive: true });
  // Written whole, then renamed: the other architecture's run may be reading it at the same time.
  fs.writeFileSync(`${verifyReportPath(arch)}.partial`, `${JSON.stringify(report, null, 2)}\n`);
  fs.renameSync(`${verifyReportPath(arch)}.partial`, verifyReportPath(arch));
  if (failures.length) {
    console.log(`\nFAILED (${failures.length}):\n${failures.map((f) => `  - ${f}`).join('\n')}`);
    process.exit(1);
  }
  console.log('\nlayer verified: ok');
}

main().catch((err: unknown) => {
  const message = err instanceof Error ? err.message : String(err);
  process.stderr.write(`verify:layer: ${message}\n`);
  process.exit(err instanceof MissingPrerequisite || err instanceof UsageError || err instanceof LockBusy ? 2 : 1);
});
