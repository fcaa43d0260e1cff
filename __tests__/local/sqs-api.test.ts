/** The local SQS API: SendMessage from the real SDK client lands in the named local queue, with its attributes; anything else is refused by name. */
import { GetQueueUrlCommand, SendMessageCommand, SQSClient } from '@aws-sdk/client-sqs';
import { startSqsApi, type LocalSqsApi } from '../../local/sqs-api';

let api: LocalSqsApi;
let client: SQSClient;
const got: { queue: string; body: string; attributes: Record<string, string> }[] = [];

beforeAll(async () => {
  api = await startSqsApi({
    uploads: { send: (body, attributes) => void got.push({ queue: 'uploads', body, attributes }) },
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
  await expect(client.send(new GetQueueUrlCommand({ QueueName: 'uploads' }))).rejects.toThrow(/SendMessage only/);
});
