/** Metrics as CloudWatch Embedded Metric Format, captured from stdout as CloudWatch would read it. */
import { createMetrics, recordCleanupMetrics, recordDetectMetrics } from '../../../functions/common/metrics';
import { restoreEnvAfterEach } from '../../helpers/log';

restoreEnvAfterEach(['POWERTOOLS_METRICS_NAMESPACE', 'POWERTOOLS_METRICS_DISABLED', 'POWERTOOLS_DEV']);

/** Everything written to stdout while `run` runs, as parsed JSON lines. */
function emf(run: () => void): Record<string, any>[] {
  const out: string[] = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  try {
    run();
  } finally {
    jest.restoreAllMocks();
  }
  return out.join('').split('\n').filter(Boolean).map((l) => JSON.parse(l));
}

const definition = (line: Record<string, any>) => line._aws.CloudWatchMetrics[0];
const units = (line: Record<string, any>) => Object.fromEntries(definition(line).Metrics.map((m: { Name: string; Unit: string }) => [m.Name, m.Unit]));

test('detect: one EMF line per request with stage timings, faces and counts; dimensions function and detector', () => {
  const metrics = createMetrics('detect-faces');
  const lines = emf(() =>
    recordDetectMetrics({ timingsMs: { download: 12.5, decode: 9.8, detect: 32.7, annotate: 0.4, encode: 8.6, upload: 20 }, totalMs: 85, faces: 3, detector: 'yunet', outcome: 'ok' }, metrics),
  );
  expect(lines).toHaveLength(1);
  const [line] = lines;
  expect(definition(line).Namespace).toBe('FaceDetection');
  expect(definition(line).Dimensions).toEqual([['service', 'function', 'detector']]);
  expect(line).toMatchObject({ service: 'face-detection', function: 'detect-faces', detector: 'yunet', outcome: 'ok' });
  expect(line).toMatchObject({ downloadMs: 12.5, decodeMs: 9.8, detectMs: 32.7, annotateMs: 0.4, encodeMs: 8.6, uploadMs: 20, totalMs: 85, faces: 3, requests: 1, failures: 0 });
  expect(units(line)).toEqual({
    downloadMs: 'Milliseconds',
    decodeMs: 'Milliseconds',
    detectMs: 'Milliseconds',
    annotateMs: 'Milliseconds',
    encodeMs: 'Milliseconds',
    uploadMs: 'Milliseconds',
    totalMs: 'Milliseconds',
    faces: 'Count',
    requests: 'Count',
    failures: 'Count',
  });
  expect(typeof line._aws.Timestamp).toBe('number');
});

test('detect: a failed request counts as a failure, with only the stages it reached', () => {
  const metrics = createMetrics('detect-faces');
  const [line] = emf(() => recordDetectMetrics({ timingsMs: { download: 3 }, detector: 'haar', outcome: 'UrlNotAllowed' }, metrics));
  expect(line).toMatchObject({ detector: 'haar', outcome: 'UrlNotAllowed', downloadMs: 3, requests: 1, failures: 1 });
  expect(Object.keys(units(line)).sort()).toEqual(['downloadMs', 'failures', 'requests']);
});

test('detect: dimensions and values do not leak from one request into the next', () => {
  const metrics = createMetrics('detect-faces');
  const lines = emf(() => {
    recordDetectMetrics({ timingsMs: { download: 1, detect: 5 }, faces: 1, detector: 'yunet', outcome: 'ok' }, metrics);
    recordDetectMetrics({ timingsMs: { download: 2 }, detector: 'haar', outcome: 'DownloadFailed' }, metrics);
  });
  expect(lines).toHaveLength(2);
  expect(lines[1]).toMatchObject({ detector: 'haar', downloadMs: 2 });
  expect(lines[1]).not.toHaveProperty('detectMs');
  expect(lines[1]).not.toHaveProperty('faces');
});

test('cleanup: counts, truncation and duration; dimension function', () => {
  const metrics = createMetrics('cleanup');
  const [line] = emf(() =>
    recordCleanupMetrics({ scanned: 2500, deleted: 1000, kept: 0, failed: 2, wouldDelete: 0, truncated: true, dryRun: false, listCalls: 1, deleteCalls: 1, durationMs: 1234 }, metrics),
  );
  expect(definition(line).Dimensions).toEqual([['service', 'function']]);
  expect(line).toMatchObject({ function: 'cleanup', scanned: 2500, deleted: 1000, kept: 0, failed: 2, wouldDelete: 0, truncated: 1, listCalls: 1, deleteCalls: 1, durationMs: 1234, dryRun: 'false' });
  expect(units(line)).toMatchObject({ scanned: 'Count', truncated: 'Count', durationMs: 'Milliseconds' });
});

test('the namespace comes from POWERTOOLS_METRICS_NAMESPACE when set; POWERTOOLS_METRICS_DISABLED silences', () => {
  process.env.POWERTOOLS_METRICS_NAMESPACE = 'FaceDetectionStaging';
  const [line] = emf(() => recordCleanupMetrics({ scanned: 0, deleted: 0, kept: 0, failed: 0, wouldDelete: 0, truncated: false, dryRun: true, listCalls: 1, deleteCalls: 0, durationMs: 5 }, createMetrics('cleanup')));
  expect(definition(line).Namespace).toBe('FaceDetectionStaging');

  process.env.POWERTOOLS_METRICS_DISABLED = 'true';
  expect(emf(() => recordDetectMetrics({ timingsMs: {}, detector: 'yunet', outcome: 'ok' }, createMetrics('detect-faces')))).toEqual([]);
});
