/**
 * CloudWatch metrics through Powertools for AWS Lambda's Metrics, as Embedded Metric Format: one
 * JSON line on stdout per call, which CloudWatch turns into metrics without any API call or
 * permission. Namespace FaceDetection (POWERTOOLS_METRICS_NAMESPACE overrides), dimensions
 * service + function (+ detector). POWERTOOLS_METRICS_DISABLED=true turns them off.
 * The outcome is metadata (searchable in the log line), not a dimension: every dimension value
 * multiplies the number of custom metrics billed.
 */
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';

export const METRICS_NAMESPACE = 'FaceDetection';

/** A Metrics instance for one function; one per container (module scope), flushed per call below. */
export function createMetrics(functionName: string): Metrics {
  return new Metrics({
    namespace: process.env.POWERTOOLS_METRICS_NAMESPACE || METRICS_NAMESPACE,
    serviceName: 'face-detection',
    defaultDimensions: { function: functionName },
  });
}

const perFunction = new Map<string, Metrics>();
const metricsFor = (functionName: string) => {
  let m = perFunction.get(functionName);
  if (!m) perFunction.set(functionName, (m = createMetrics(functionName)));
  return m;
};

export interface DetectMetricsInput {
  /** Stage durations as the pipeline measures them (download, decode, detect, ...). */
  readonly timingsMs: Readonly<Partial<Record<string, number>>>;
  /** Faces found (successful requests only). */
  readonly faces?: number;
  readonly totalMs?: number;
  /** Detector kind (yunet, haar): a dimension. */
  readonly detector: string;
  /** "ok" or the error code the caller received. */
  readonly outcome: string;
}

/** Once per detect-faces request: `<stage>Ms` timings, `faces`, `requests` and `failures` counts. */
export function recordDetectMetrics(input: DetectMetricsInput, metrics: Metrics = metricsFor('detect-faces')): void {
  metrics.addDimension('detector', input.detector || 'unknown');
  for (const [stage, ms] of Object.entries(input.timingsMs)) {
    if (typeof ms === 'number' && Number.isFinite(ms)) metrics.addMetric(`${stage}Ms`, MetricUnit.Milliseconds, ms);
  }
  if (input.totalMs !== undefined) metrics.addMetric('totalMs', MetricUnit.Milliseconds, input.totalMs);
  if (input.faces !== undefined) metrics.addMetric('faces', MetricUnit.Count, input.faces);
  metrics.addMetric('requests', MetricUnit.Count, 1);
  metrics.addMetric('failures', MetricUnit.Count, input.outcome === 'ok' ? 0 : 1);
  metrics.addMetadata('outcome', input.outcome);
  metrics.publishStoredMetrics();
}

export interface CleanupMetricsInput {
  readonly scanned: number;
  readonly deleted: number;
  readonly kept: number;
  readonly failed: number;
  readonly wouldDelete: number;
  readonly truncated: boolean;
  readonly dryRun: boolean;
  readonly listCalls: number;
  readonly deleteCalls: number;
  readonly durationMs: number;
}

/** Once per cleanup run: its counts, whether it stopped early, and how long it took. */
export function recordCleanupMetrics(summary: CleanupMetricsInput, metrics: Metrics = metricsFor('cleanup')): void {
  for (const name of ['scanned', 'deleted', 'kept', 'failed', 'wouldDelete', 'listCalls', 'deleteCalls'] as const) {
    metrics.addMetric(name, MetricUnit.Count, summary[name]);
  }
  metrics.addMetric('truncated', MetricUnit.Count, summary.truncated ? 1 : 0);
  metrics.addMetric('durationMs', MetricUnit.Milliseconds, summary.durationMs);
  metrics.addMetadata('dryRun', String(summary.dryRun));
  metrics.publishStoredMetrics();
}
