/**
 * A build declared as a table of stages, and the runner that derives everything else from it.
 *
 * A stage says what it is (id, title), what it reads (dependsOn: other stages' outputs; inputs: the
 * named values it is made from; files and code: the files it runs), what it needs from the machine
 * (network, root, commands), where its output is cached (a folder or a file named from its key, or
 * nothing: it runs whenever needed), how long a cold run took when measured, and how to make it (run).
 * The runner derives:
 *
 *   - each stage's key: a hash of its dependencies' keys, its named inputs, and the contents of its
 *     files and of its code with every project module that code imports (found by esbuild, so a
 *     helper the stage calls is covered without being listed). File names enter the key relative to
 *     the table's root folder: the same checkout anywhere has the same keys. A dependency already
 *     covered by another dependency's key (addon -> opencv -> root) is not hashed again. A stage
 *     whose output is pinned by checksum (a download, a committed model) has that checksum as key;
 *     `keyPrefix` is kept in front of the hash (roots are named by their key). Nothing else enters a
 *     key: titles, job counts, cache folders and mirrors do not.
 *   - which stages run: from the goals backwards, a stage runs when its output is not cached and a
 *     stage that runs (or a goal) needs it; what only cached stages need is not even looked at.
 *   - the numbering [i/N] (N = the stages the goals reach), the log file names, the commands and
 *     privileges to check first, whether the Debian mirror must be resolved (only when a stage
 *     that runs needs it), and the expected time left (from the stages' measured durations).
 *
 * A stage builds into a partial output (renamed into place only when it succeeds) and gets a fresh
 * scratch folder, deleted after it; what it depends on it only reads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { buildSync } from 'esbuild';
import { cacheKey, CacheEntry, sha256 } from './cache';
import { acquireLock, type BuildLock } from './lock';
import { requireCommands, requireRoot } from './prerequisites';
import { formatDuration, runStep, type StepContext } from './steps';

/** What a stage needs from the network: the Debian archive (resolved once, first) or the npm registry. */
export type StageNetwork = 'debian' | 'npm';

export type StageKey = string | readonly string[];

export interface StageDef {
  readonly id: string;
  /** What the progress line says. */
  readonly title: string;
  /** Stages whose outputs this one reads (declared earlier in the table). */
  readonly dependsOn?: readonly string[];
  /** Named values hashed into the key (JSON-able), after the dependencies' keys. */
  readonly inputs?: Readonly<Record<string, unknown>>;
  /** Files the stage runs or reads (scripts, lock files): their contents are hashed into the key. */
  readonly files?: readonly string[];
  /** Modules that implement the stage: hashed with every project module they import. */
  readonly code?: readonly string[];
  /** A stage whose output is pinned by checksum: the checksum is its key (no inputs, no dependencies). */
  readonly pin?: StageKey;
  /** Kept in front of the key's hash. */
  readonly keyPrefix?: string;
  readonly network?: StageNetwork;
  /** Needs root (debootstrap, chroot, mounts). */
  readonly root?: boolean;
  /** Commands it runs, checked before anything runs. */
  readonly commands?: readonly string[];
  /** Where its output is cached, from its key; without it the stage runs whenever it is needed. */
  readonly output?: { readonly kind: 'dir' | 'file'; at(key: string): string };
  /** How long a cold run took, measured (ms), for the expected time left; absent for a few seconds' stage. */
  readonly expectedMs?: number;
  /** Makes the output in `ctx.out`; a stage without `output` returns the path of what it made. */
  run(ctx: StageContext): Promise<string | void>;
}

export interface StageContext extends StepContext {
  readonly key: StageKey;
  /** Where to build: an empty folder, or a file path (`.partial`); renamed into place on success. */
  readonly out: string;
  /** Where the output will be once renamed into place. */
  readonly final: string;
  /** A fresh folder of this stage's own, deleted after it. */
  readonly scratch: string;
  /** The output of a declared dependency (read it, never write it). */
  input(id: string): string;
  /** The Debian mirror, for a stage that declares `network: 'debian'`. */
  mirror(): string;
}

export type StageStatus = 'cached' | 'run' | 'not needed';

export interface PlannedStage {
  readonly def: StageDef;
  readonly key: StageKey;
  /** Cached output path ('' for a stage without output). */
  readonly output: string;
  readonly status: StageStatus;
}

export interface StagePlan {
  /** The stages the goals reach, in table order. */
  readonly stages: readonly PlannedStage[];
  /** What the stages that run need. */
  readonly needs: { readonly root: boolean; readonly commands: readonly string[]; readonly network: readonly StageNetwork[] };
  /** Whether anything runs at all. */
  readonly runs: boolean;
  /** Measured duration of the stages that run, summed (ms). */
  readonly expectedMs: number;
}

export interface KeyOptions {
  /** The folder file names in keys are relative to (the project's root). */
  readonly root?: string;
  /** Reads a file for its hash (tests substitute one). */
  readonly read?: (file: string) => Buffer | string;
}

const closures = new Map<string, string[]>();

/**
 * The project modules `entry` runs, itself included: every relative import, followed by esbuild
 * (npm packages left out, since their versions are named inputs where they matter; type-only
 * imports left out, since they emit no code). Absolute paths, sorted; memoized per process.
 */
export function codeClosure(entry: string): string[] {
  let files = closures.get(entry);
  if (!files) {
    const root = path.dirname(entry);
    const { metafile } = buildSync({
      entryPoints: [entry],
      absWorkingDir: root,
      bundle: true,
      write: false,
      metafile: true,
      platform: 'node',
      packages: 'external',
      logLevel: 'silent',
    });
    files = Object.keys(metafile.inputs)
      .map((f) => path.resolve(root, f))
      .sort();
    closures.set(entry, files);
  }
  return files;
}

/** Every file whose contents enter a stage's key: its files, and its code with what that imports. */
export function stageFiles(def: StageDef): string[] {
  return [...new Set([...(def.files ?? []), ...(def.code ?? []).flatMap(codeClosure)])].sort();
}

/** Every stage's key, in table order (dependencies must be declared before the stages that use them). */
export function stageKeys(table: readonly StageDef[], options: KeyOptions = {}): Map<string, StageKey> {
  const read = options.read ?? ((file: string) => fs.readFileSync(file));
  const base = options.root ?? process.cwd();
  const byId = new Map<string, StageDef>();
  const reach = new Map<string, Set<string>>();
  const keys = new Map<string, StageKey>();
  for (const def of table) {
    if (byId.has(def.id)) throw new Error(`stage ${def.id} is declared twice`);
    const deps = def.dependsOn ?? [];
    for (const dep of deps) {
      if (!byId.has(dep)) throw new Error(`stage ${def.id} depends on ${dep}, which is not declared before it`);
    }
    if (def.pin !== undefined && (deps.length || def.inputs || def.files?.length || def.code?.length || def.keyPrefix)) {
      throw new Error(`stage ${def.id} is pinned by checksum: it takes no inputs, files, code, dependencies or key prefix`);
    }
    const reached = new Set<string>();
    for (const dep of deps) {
      reached.add(dep);
      for (const r of reach.get(dep)!) reached.add(r);
    }
    // A dependency that another dependency already reaches is covered by that one's key.
    const direct = deps.filter((dep) => !deps.some((other) => other !== dep && reach.get(other)!.has(dep)));
    let key = def.pin;
    if (key === undefined) {
      const files = stageFiles(def).map((f) => [path.relative(base, f), sha256(read(f))]);
      key = `${def.keyPrefix ?? ''}${cacheKey(direct.map((d) => keys.get(d)!), def.inputs ?? {}, files)}`;
    }
    byId.set(def.id, def);
    reach.set(def.id, reached);
    keys.set(def.id, key);
  }
  return keys;
}

/** Which of the stages the goals reach run, are cached, or are not needed; pure but for `exists` (and reading the files keys hash). */
export function planStages(
  table: readonly StageDef[],
  goals: readonly string[],
  options: KeyOptions & { readonly exists?: (file: string) => boolean } = {},
): StagePlan {
  const exists = options.exists ?? fs.existsSync;
  const keys = stageKeys(table, options);
  const byId = new Map(table.map((def) => [def.id, def]));
  const reached = new Set<string>();
  const visit = (id: string) => {
    const def = byId.get(id);
    if (!def) throw new Error(`no stage ${id}`);
    if (reached.has(id)) return;
    reached.add(id);
    (def.dependsOn ?? []).forEach(visit);
  };
  goals.forEach(visit);

  const needed = new Set(goals);
  const status = new Map<string, StageStatus>();
  const outputs = new Map<string, string>();
  for (const def of [...table].reverse()) {
    if (!reached.has(def.id)) continue;
    const key = keys.get(def.id)!;
    if (def.output && typeof key !== 'string') throw new Error(`stage ${def.id} has an output, so its key must be one string`);
    const output = def.output ? def.output.at(key as string) : '';
    outputs.set(def.id, output);
    if (!needed.has(def.id)) status.set(def.id, 'not needed');
    else if (output && exists(output)) status.set(def.id, 'cached');
    else {
      status.set(def.id, 'run');
      (def.dependsOn ?? []).forEach((dep) => needed.add(dep));
    }
  }

  const stages = table.filter((def) => reached.has(def.id)).map((def) => ({ def, key: keys.get(def.id)!, output: outputs.get(def.id)!, status: status.get(def.id)! }));
  const running = stages.filter((s) => s.status === 'run').map((s) => s.def);
  const commands = [...new Set(running.flatMap((def) => def.commands ?? []))];
  const network = [...new Set(running.flatMap((def) => (def.network ? [def.network] : [])))];
  const expectedMs = running.reduce((sum, def) => sum + (def.expectedMs ?? 0), 0);
  return { stages, needs: { root: running.some((def) => def.root), commands, network }, runs: running.length > 0, expectedMs };
}

export interface RunOptions {
  /** Log files go here, named `<logPrefix><stage id>.log`. */
  logDir: string;
  logPrefix?: string;
  /** Scratch folders go here (one per stage that runs, deleted after it). */
  scratchDir: string;
  /** Resolves the Debian mirror; called once, before any stage runs, and only if a stage that runs needs it. */
  mirror?: () => Promise<string>;
  out?: (line: string) => void;
  /** The build lock's descriptor, handed to every command the stages run (runStep). */
  lockFd?: number;
}

/** Runs a plan: prints one line per stage, runs those that must run in table order; returns every output used. */
export async function runStages(plan: StagePlan, options: RunOptions): Promise<Map<string, string>> {
  const out = options.out ?? ((line: string) => process.stderr.write(`${line}\n`));
  let mirror: string | undefined;
  if (plan.needs.network.includes('debian')) {
    if (!options.mirror) throw new Error('a stage needs the Debian archive, and no mirror was given');
    mirror = await options.mirror();
  }
  const outputs = new Map<string, string>();
  const total = plan.stages.length;
  let left = plan.expectedMs;
  if (left >= 60_000) out(`cold stages to run: about ${formatDuration(left)} (their durations measured on 2 cores; more under load)`);
  for (const [i, stage] of plan.stages.entries()) {
    const { def, key } = stage;
    const label = `[${i + 1}/${total}] ${def.title}`;
    if (stage.status === 'not needed') {
      out(`· ${label}: not needed`);
      continue;
    }
    if (stage.status === 'cached') {
      out(`✓ ${label}: cached`);
      outputs.set(def.id, stage.output);
      continue;
    }
    const deps = new Set(def.dependsOn ?? []);
    const scratch = path.join(options.scratchDir, `${options.logPrefix ?? ''}${def.id}`);
    fs.rmSync(scratch, { recursive: true, force: true });
    fs.mkdirSync(scratch, { recursive: true });
    const entry = def.output?.kind === 'dir' ? new CacheEntry(stage.output) : undefined;
    const partial = def.output?.kind === 'file' ? `${stage.output}.partial` : '';
    const logFile = path.join(options.logDir, `${options.logPrefix ?? ''}${def.id}.log`);
    try {
      const made = await runStep(def.id, label, logFile, out, async (step) => {
        let into = '';
        if (entry) into = entry.begin();
        else if (partial) {
          fs.mkdirSync(path.dirname(partial), { recursive: true });
          fs.rmSync(partial, { force: true });
          into = partial;
        }
        const ctx: StageContext = {
          ...step,
          key,
          out: into,
          final: stage.output,
          scratch,
          input(id) {
            if (!deps.has(id)) throw new Error(`stage ${def.id} reads ${id}, which it does not declare in dependsOn`);
            return outputs.get(id)!;
          },
          mirror() {
            if (def.network !== 'debian' || mirror === undefined) throw new Error(`stage ${def.id} does not declare network: 'debian'`);
            return mirror;
          },
        };
        const returned = await def.run(ctx);
        if (entry) return entry.commit();
        if (partial) {
          if (!fs.existsSync(partial)) throw new Error(`stage ${def.id} did not write ${partial}`);
          fs.renameSync(partial, stage.output);
          return stage.output;
        }
        if (typeof returned !== 'string') throw new Error(`stage ${def.id} has no cached output and returned no path`);
        return returned;
      }, options.lockFd);
      outputs.set(def.id, made);
      left -= def.expectedMs ?? 0;
      if (def.expectedMs && left >= 60_000) out(`  about ${formatDuration(left)} left`);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
  return outputs;
}

/**
 * Plans, and when anything must run: checks the commands it needs, takes the cache's lock
 * (another build may be running; it fails at once, naming it), plans again under it (that build
 * may have made what was missing), checks for root if what still runs needs it, runs, releases.
 * What every caller of a table that may build goes through.
 */
export async function runGoals(plan: () => StagePlan, options: RunOptions & { lockDir: string }): Promise<Map<string, string>> {
  let current = plan();
  let lock: BuildLock | undefined;
  try {
    if (current.runs) {
      // Commands first: a user who lacks both learns what to install before how to run it.
      requireCommands([...current.needs.commands, 'flock']);
      lock = await acquireLock(options.lockDir);
      current = plan();
      if (current.needs.root) requireRoot();
    }
    return await runStages(current, { ...options, lockFd: lock?.fd });
  } finally {
    lock?.release();
  }
}
