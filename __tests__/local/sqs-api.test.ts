/** The local SQS API: SendMessage and ChangeMessageVisibility from the real SDK client reach the named local queue; anything else is refused by name. */
import { ChangeMessageVisibilityCommand, GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startSqsApi, type LocalSqsApi } from '../../local/sqs-api';

let api: LocalSqsApi;
let client: SQSClient;
const got: { queue: string; body: string; attributes: Record<string, string> }[] = [];
const visibility: { handle: string; seconds: number }[] = [];

beforeAll(async () => {
  api = await startSqsApi({
    uploads: {
      send: (body, attributes) => void got.push({ queue: 'uploads', body, attributes }),
      changeVisibility: (handle, seconds) => handle === 'in-flight' && visibility.push({ handle, seconds }) > 0,
    },
    'uploads-dead-letters': { send: (body, attributes) => (got.push({ queue: 'dead', body, attributes }), 'letter-1') },
  });
  client = new SQSClient({ region: 'us-east-1', endpoint: api.endpoint, credentials: { accessKeyId: 'local', secretAccessKey: 'local' }, maxAttempts: 1 });
});

afterAll(async () => {
  client?.destroy();
  await api?.close();
});

test('SendMessage: the body and string attributes reach the queue; the SDK checks the MD5 of the body it gets back', async () => {
  const out = await client.send(new SendMessageCommand({ QueueUrl: api.url('uploads-dead-letters'), MessageBody: '{"Records":[]}', MessageAttributes: { reason: { DataType: 'String', StringValue: 'not JSON' } } }));
  expect(out.MessageId).toBe('letter-1');
  await client.send(new SendMessageCommand({ QueueUrl: api.url('uploads'), MessageBody: 'again' }));
  expect(got).toEqual([
    { queue: 'dead', body: '{"Records":[]}', attributes: { reason: 'not JSON' } },
    { queue: 'uploads', body: 'again', attributes: {} },
  ]);
});

test('an unknown queue and other operations are refused by name', async () => {
  await expect(client.send(new SendMessageCommand({ QueueUrl: api.url('nope'), MessageBody: 'x' }))).rejects.toMatchObject({ name: 'QueueDoesNotExist' });
  await expect(client.send(new GetQueueUrlCommand({ QueueName: 'uploads' }))).rejects.toThrow(/SendMessage and ChangeMessageVisibility only, not AmazonSQS.GetQueueUrl/);
});

test('ChangeMessageVisibility: the receipt handle and seconds reach the queue; a stale handle and a bad timeout are refused as SQS refuses them', async () => {
  await client.send(new ChangeMessageVisibilityCommand({ QueueUrl: api.url('uploads'), ReceiptHandle: 'in-flight', VisibilityTimeout: 6 }));
  expect(visibility).toEqual([{ handle: 'in-flight', seconds: 6 }]);
  await expect(client.send(new ChangeMessageVisibilityCommand({ QueueUrl: api.url('uploads'), ReceiptHandle: 'gone', VisibilityTimeout: 6 }))).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid' });
  await expect(client.send(new ChangeMessageVisibilityCommand({ QueueUrl: api.url('uploads'), ReceiptHandle: 'in-flight', VisibilityTimeout: 50_000 }))).rejects.toMatchObject({ name: 'InvalidParameterValue' });
  // The dead-letter queue takes no visibility changes: nothing the function does there needs one.
  await expect(client.send(new ChangeMessageVisibilityCommand({ QueueUrl: api.url('uploads-dead-letters'), ReceiptHandle: 'in-flight', VisibilityTimeout: 6 }))).rejects.toMatchObject({ name: 'ReceiptHandleIsInvalid' });
  expect(visibility).toHaveLength(1);
});
