/** Long build steps: cached steps say so, failures name the step, its log and the log's last lines. */
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { formatDuration, StepFailed, StepRunner } from '../../layer/lib/steps';

test('a cached step is skipped, a run step is logged, a failing step names itself and its log', async () => {
  const logDir = fs.mkdtempSync(path.join(os.tmpdir(), 'steps-'));
  const lines: string[] = [];
  const runner = new StepRunner(logDir, 3, (l) => lines.push(l));

  expect(await runner.run('root', () => 'cached-value', async () => 'never')).toBe('cached-value');
  expect(await runner.run('compile', () => undefined, async (ctx) => {
    await ctx.exec(['sh', '-c', 'echo building one; echo building two']);
    return 'built';
  })).toBe('built');
  const failure = runner.run('link', () => undefined, (ctx) => ctx.exec(['sh', '-c', 'echo "undefined reference to cv::foo" >&2; exit 3']));
  await expect(failure).rejects.toBeInstanceOf(StepFailed);
  const error = (await failure.catch((e: StepFailed) => e)) as StepFailed;

  expect(lines[0]).toBe('✓ [1/3] root: cached');
  expect(lines).toContainEqual(expect.stringMatching(/^✓ \[2\/3\] compile: \d+s$/));
  expect(error.step).toBe('link');
  expect(error.message).toMatch(/^✗ \[3\/3\] link failed after \d+s: sh exited with code 3\n {2}log: .*03-link\.log/);
  expect(error.message).toContain('undefined reference to cv::foo');
  expect(fs.readFileSync(error.logFile!, 'utf8')).toContain('$ sh -c');
  fs.rmSync(logDir, { recursive: true, force: true });
});

test('durations read as people say them', () => {
  expect([formatDuration(900), formatDuration(59_400), formatDuration(61_000), formatDuration(13 * 60_000 + 14_000)]).toEqual(['1s', '59s', '1m01s', '13m14s']);
});
