/**
 * `npm run synth`: synthesizes the stack as HCL into cdktf.out/stacks/<stack>/cdk.tf, formatted
 * the way `terraform fmt` wants it, from a clean output folder (a stale cdk.tf.json would
 * otherwise sit beside cdk.tf and be read by terraform too).
 */
import { spawnSync } from 'node:child_process';
import * as fs from 'node:fs';
import * as path from 'node:path';

const outDir = path.resolve('cdktf.out');
fs.rmSync(outDir, { recursive: true, force: true });

const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: '1', CDKTF_DISABLE_PLUGIN_CACHE_ENV: '1' };
// A TF_CLI_CONFIG_FILE that names a missing file only makes terraform print a warning.
if (env.TF_CLI_CONFIG_FILE && !fs.existsSync(env.TF_CLI_CONFIG_FILE)) delete env.TF_CLI_CONFIG_FILE;
const synth = spawnSync('npx', ['--no-install', 'cdktf', 'synth', '--hcl'], { stdio: 'inherit', env });
if (synth.status !== 0) process.exit(synth.status ?? 1);

const stacksDir = path.join(outDir, 'stacks');
for (const stack of fs.readdirSync(stacksDir)) {
  const dir = path.join(stacksDir, stack);
  // cdktf writes "${ref}" interpolations that terraform fmt rewrites to bare references.
  const fmt = spawnSync('terraform', ['fmt', dir], { stdio: ['ignore', 'ignore', 'inherit'], env });
  if (fmt.error) {
    process.stderr.write(`synth: terraform is needed to format the HCL (${fmt.error.message}); install Terraform >= 1.10\n`);
    process.exit(1);
  }
  if (fmt.status !== 0) process.exit(fmt.status ?? 1);
  process.stdout.write(`HCL: ${path.relative(process.cwd(), path.join(dir, 'cdk.tf'))}\n`);
}
