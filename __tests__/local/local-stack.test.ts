import * as fs from 'node:fs';
import * as path from 'node:path';
import { closeLocalStack, threadsPerProcess, type LocalStackParts } from '../../local/local-stack';
import { closeInStages } from '../../local/close';
import { tempDir } from '../helpers/temp';

/** Fake parts that record when each close started and ended; `fail` names those whose close rejects. */
function fakeParts(fail: readonly string[] = []) {
  const events: string[] = [];
  const part = (name: string) => async () => {
    events.push(`${name} start`);
    await new Promise((r) => setImmediate(r));
    events.push(`${name} end`);
    if (fail.includes(name)) throw new Error(`${name} would not close`);
  };
  const bundleDir = tempDir('bundle');
  fs.writeFileSync(path.join(bundleDir, 'index.js'), '');
  const parts: LocalStackParts = {
    mapping: { stop: part('mapping') },
    detect: { close: part('detect') },
    cleanup: { close: part('cleanup') },
    webApi: { close: part('web-api') },
    runtimes: [{ close: part('runtime 1') }, { close: part('runtime 2') }],
    files: { close: part('files') },
    sqs: { close: part('sqs') },
    s3: { close: part('s3') },
    bundleDirs: [bundleDir],
  };
  return { parts, events, bundleDir };
}

const ended = (events: readonly string[]) => events.filter((e) => e.endsWith(' end')).map((e) => e.slice(0, -4));

describe('closing the local stack', () => {
  test('the mapping and the function processes together, then files, SQS, S3 and the bundles, one after another', async () => {
    const { parts, events, bundleDir } = fakeParts();
    await closeLocalStack(parts);
    const functions = ['mapping', 'detect', 'cleanup', 'web-api', 'runtime 1', 'runtime 2'];
    // Every function close starts before any of them ends; the servers close after all of them.
    expect(events.slice(0, functions.length)).toEqual(functions.map((f) => `${f} start`));
    expect(events.slice(2 * functions.length)).toEqual(['files start', 'files end', 'sqs start', 'sqs end', 's3 start', 's3 end']);
    expect(fs.existsSync(bundleDir)).toBe(false);
  });

  test('a part that fails to close leaves none of the others open, and its error surfaces naming it', async () => {
    const { parts, events, bundleDir } = fakeParts(['detect', 'sqs']);
    const closing = closeLocalStack(parts);
    await expect(closing).rejects.toThrow(AggregateError);
    await expect(closing).rejects.toThrow(
      'closing the local stack, 2 part(s) failed (the others are closed): detect-faces: detect would not close; SQS API: sqs would not close',
    );
    await closing.catch((err: AggregateError) => expect(err.errors.map((e: Error) => e.message)).toEqual(['detect would not close', 'sqs would not close']));
    expect(ended(events).sort()).toEqual(['cleanup', 'detect', 'files', 'mapping', 'runtime 1', 'runtime 2', 's3', 'sqs', 'web-api']);
    expect(fs.existsSync(bundleDir)).toBe(false);
  });
});

test('closeInStages: a close that throws synchronously counts as failed, and the next stage still runs', async () => {
  const closed: string[] = [];
  const closing = closeInStages('two parts', [
    [['a', () => { throw new TypeError('a is broken'); }]],
    [['b', () => void closed.push('b')]],
  ]);
  await expect(closing).rejects.toThrow('closing two parts, 1 part(s) failed (the others are closed): a: a is broken');
  expect(closed).toEqual(['b']);
  await expect(closeInStages('nothing', [[], [['c', async () => undefined]]])).resolves.toBeUndefined();
});

test('each upload process gets its share of the CPUs as OpenCV threads, at least one', () => {
  expect(threadsPerProcess(2, 10)).toBe(1);
  expect(threadsPerProcess(8, 2)).toBe(4);
  expect(threadsPerProcess(8, 3)).toBe(2);
  expect(threadsPerProcess(1, 1)).toBe(1);
});
