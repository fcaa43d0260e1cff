/**
 * A build declared as a table of stages, and the runner that derives everything else from it.
 *
 * A stage says what it is (id, title), what it reads (dependsOn: other stages' outputs; inputs: the
 * values hashed into its key), what it needs from the machine (network, root, commands), where its
 * output is cached (a folder or a file named from its key, or nothing: it runs whenever needed) and
 * how to make it (run). The runner derives:
 *
 *   - each stage's key: a hash of its dependencies' keys and then its inputs. A dependency already
 *     covered by another dependency's key (addon -> opencv -> root) is not hashed again. A stage
 *     whose output is pinned by checksum (a download, a committed model) has that checksum as key;
 *     `keyPrefix` is kept in front of the hash (roots are named by their key).
 *   - which stages run: from the goals backwards, a stage runs when its output is not cached and a
 *     stage that runs (or a goal) needs it; what only cached stages need is not even looked at.
 *   - the numbering [i/N] (N = the stages the goals reach), the log file names, the commands and
 *     privileges to check first, and whether the Debian mirror must be resolved (only when a stage
 *     that runs needs it).
 *
 * A stage builds into a partial output (renamed into place only when it succeeds) and gets a fresh
 * scratch folder, deleted after it; what it depends on it only reads.
 */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { cacheKey, CacheEntry } from './cache';
import { runStep, type StepContext } from './steps';

/** What a stage needs from the network: the Debian archive (resolved once, first) or the npm registry. */
export type StageNetwork = 'debian' | 'npm';

export type StageKey = string | readonly string[];

export interface StageDef {
  readonly id: string;
  /** What the progress line says. */
  readonly title: string;
  /** Stages whose outputs this one reads (declared earlier in the table). */
  readonly dependsOn?: readonly string[];
  /** Values hashed into the key, after the dependencies' keys. */
  readonly inputs?: readonly unknown[];
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
}

/** Every stage's key, in table order (dependencies must be declared before the stages that use them). */
export function stageKeys(table: readonly StageDef[]): Map<string, StageKey> {
  const byId = new Map<string, StageDef>();
  const reach = new Map<string, Set<string>>();
  const keys = new Map<string, StageKey>();
  for (const def of table) {
    if (byId.has(def.id)) throw new Error(`stage ${def.id} is declared twice`);
    const deps = def.dependsOn ?? [];
    for (const dep of deps) {
      if (!byId.has(dep)) throw new Error(`stage ${def.id} depends on ${dep}, which is not declared before it`);
    }
    if (def.pin !== undefined && (deps.length || def.inputs?.length || def.keyPrefix)) {
      throw new Error(`stage ${def.id} is pinned by checksum: it takes no inputs, dependencies or key prefix`);
    }
    const reached = new Set<string>();
    for (const dep of deps) {
      reached.add(dep);
      for (const r of reach.get(dep)!) reached.add(r);
    }
    // A dependency that another dependency already reaches is covered by that one's key.
    const direct = deps.filter((dep) => !deps.some((other) => other !== dep && reach.get(other)!.has(dep)));
    const key = def.pin ?? `${def.keyPrefix ?? ''}${cacheKey(...direct.map((d) => keys.get(d)!), ...(def.inputs ?? []))}`;
    byId.set(def.id, def);
    reach.set(def.id, reached);
    keys.set(def.id, key);
  }
  return keys;
}

/** Which of the stages the goals reach run, are cached, or are not needed; pure but for `exists`. */
export function planStages(table: readonly StageDef[], goals: readonly string[], exists: (file: string) => boolean = fs.existsSync): StagePlan {
  const keys = stageKeys(table);
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
  return { stages, needs: { root: running.some((def) => def.root), commands, network }, runs: running.length > 0 };
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
      });
      outputs.set(def.id, made);
    } finally {
      fs.rmSync(scratch, { recursive: true, force: true });
    }
  }
  return outputs;
}
