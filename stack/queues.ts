/** The dead-letter queue both the cleanup schedule and the upload trigger use. */
import { SqsQueue } from '@cdktf/provider-aws/lib/sqs-queue';
import type { Construct } from 'constructs';
import { DEAD_LETTER_RETENTION_DAYS } from './settings';

/**
 * Keeps its messages as long as SQS allows: for a redrive source the enqueue time carries over
 * from the source queue, so a shorter retention could expire dead letters early.
 */
export function deadLetterQueue(scope: Construct, id: string, name: string): SqsQueue {
  return new SqsQueue(scope, id, { name, messageRetentionSeconds: DEAD_LETTER_RETENTION_DAYS * 86400, sqsManagedSseEnabled: true });
}
