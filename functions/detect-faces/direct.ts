/**
 * The direct entry: a `{imageUrl}` invocation through the pipeline (pipeline.ts detectFaces),
 * within the invocation's time. Its one S3 call, the image write, ends at the write deadline
 * (writeTimeoutMs) or at the invocation's own (Lambda's remaining time less the answer margin),
 * whichever comes first, the SDK's retries included: the caller then gets StorageFailed, a typed
 * error, never a Lambda timeout. The read has its own deadline (downloadTimeoutMs, fetch/download.ts);
 * the stack makes the whole worst case fit the timeout (contract/deadline.ts).
 */
import { ANSWER_MARGIN_MS, type DetectResult } from './contract';
import { Deadlines } from '../common/deadlines';
import { detectFaces, type ImageStore, type PipelinePorts, type PipelineSettings } from './pipeline';

export interface DirectPorts<I> extends Omit<PipelinePorts<I>, 'store'> {
  /** The image store of one invocation, each write bounded by a fresh `deadline()`. */
  readonly store: (deadline: () => AbortSignal) => ImageStore;
}

export interface DirectSettings extends PipelineSettings {
  readonly writeTimeoutMs: number;
  /** What the invocation keeps back to answer; default ANSWER_MARGIN_MS. */
  readonly answerMarginMs?: number;
}

export async function handleDirect<I>(event: unknown, ports: DirectPorts<I>, settings: DirectSettings, remainingMs: () => number): Promise<DetectResult> {
  const deadlines = new Deadlines(remainingMs() - (settings.answerMarginMs ?? ANSWER_MARGIN_MS));
  try {
    return await detectFaces(event, { ...ports, store: ports.store(() => deadlines.within(settings.writeTimeoutMs)) }, settings);
  } finally {
    deadlines.close();
  }
}
