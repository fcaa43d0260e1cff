/**
 * The SQS API the functions call locally: `SendMessage` and `ChangeMessageVisibility` (AWS JSON
 * 1.0, as @aws-sdk/client-sqs speaks it) on the local queues, on loopback. detect-faces sends a
 * deferred upload back to its queue as a new message, a poison one to the dead-letter queue with
 * its `reason` attribute, and sets when a failed one comes back
 * (functions/detect-faces/uploads/sqs-queue.ts). Nothing else of SQS is served.
 */
import { createHash, randomUUID } from 'node:crypto';
import * as http from 'node:http';
import { listenOnLoopback } from './listen';
import { refuseForeign } from './loopback-guard';

/** Where a queue URL's messages go. */
export interface QueueTarget {
  send(body: string, attributes: Record<string, string>): string | void;
  /** ChangeMessageVisibility: false when the receipt handle is not a message's latest. */
  changeVisibility?(receiptHandle: string, seconds: number): boolean;
}

export interface LocalSqsApi {
  readonly endpoint: string;
  /** The URL a function is given for the queue of this name. */
  url(name: string): string;
  close(): Promise<void>;
}

const ACCOUNT = '000000000000';

export async function startSqsApi(queues: Readonly<Record<string, QueueTarget>>, port = 0): Promise<LocalSqsApi> {
  const server = http.createServer((req, res) => {
    if (refuseForeign(req, res)) return;
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const answer = (status: number, body: object): void => void res.writeHead(status, { 'content-type': 'application/x-amz-json-1.0' }).end(JSON.stringify(body));
      const target = String(req.headers['x-amz-target'] ?? '');
      if (target !== 'AmazonSQS.SendMessage' && target !== 'AmazonSQS.ChangeMessageVisibility') {
        return answer(400, { __type: 'com.amazonaws.sqs#UnsupportedOperation', message: `the local SQS API serves SendMessage and ChangeMessageVisibility only, not ${target}` });
      }
      let input: { QueueUrl?: string; MessageBody?: string; MessageAttributes?: Record<string, { StringValue?: string }>; ReceiptHandle?: string; VisibilityTimeout?: number };
      try {
        input = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return answer(400, { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: 'the body is not JSON' });
      }
      const name = String(input.QueueUrl ?? '').split('/').pop() ?? '';
      const queue = queues[name];
      if (!queue) return answer(400, { __type: 'com.amazonaws.sqs#QueueDoesNotExist', message: `no local queue ${name}` });
      if (target === 'AmazonSQS.ChangeMessageVisibility') {
        const seconds = input.VisibilityTimeout;
        if (typeof seconds !== 'number' || !Number.isInteger(seconds) || seconds < 0 || seconds > 43_200) {
          return answer(400, { __type: 'com.amazonaws.sqs#InvalidParameterValue', message: 'VisibilityTimeout must be a whole number of seconds from 0 to 43200' });
        }
        if (!queue.changeVisibility?.(String(input.ReceiptHandle ?? ''), seconds)) {
          return answer(400, { __type: 'com.amazonaws.sqs#ReceiptHandleIsInvalid', message: `no message in flight with receipt handle ${input.ReceiptHandle}` });
        }
        return answer(200, {});
      }
      if (typeof input.MessageBody !== 'string' || !input.MessageBody) return answer(400, { __type: 'com.amazonaws.sqs#MissingParameter', message: 'MessageBody is required' });
      const attributes = Object.fromEntries(Object.entries(input.MessageAttributes ?? {}).map(([k, v]) => [k, String(v.StringValue ?? '')]));
      const id = queue.send(input.MessageBody, attributes) || randomUUID();
      answer(200, { MessageId: id, MD5OfMessageBody: createHash('md5').update(input.MessageBody).digest('hex') });
    });
  });
  const endpoint = `http://127.0.0.1:${await listenOnLoopback(server, port)}`;
  return {
    endpoint,
    url: (name) => `${endpoint}/${ACCOUNT}/${name}`,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
