/**
 * An in-memory S3 that answers as S3 does, for the commands the uploads use (GetObject,
 * HeadObject, PutObject, DeleteObject), through the SDK client's `send`:
 * - a missing key is 404 (NoSuchKey / NotFound) for a caller with s3:ListBucket, 403 AccessDenied
 *   without it (`listBucket: false`);
 * - ETags are the MD5 of the body, quoted, so an overwrite with other bytes changes the ETag;
 * - If-Match / If-None-Match on GetObject, HeadObject, PutObject and DeleteObject: 412
 *   PreconditionFailed when they fail (If-None-Match on a read: 304 as S3, not used here);
 * - user metadata kept per object, returned by Get and Head;
 * - each write and delete gets a sequencer (hex, increasing), as S3's event would carry.
 * Hooks let a test run code between two calls (the races) or fail a call (faults).
 */
import { createHash } from 'node:crypto';
import { Readable } from 'node:stream';
import type { S3Client } from '@aws-sdk/client-s3';

export interface FakeObject {
  body: Buffer;
  eTag: string;
  metadata: Record<string, string>;
  contentType?: string;
}

type Input = Record<string, unknown> & { Bucket: string; Key: string };
export interface Call {
  readonly name: string;
  readonly input: Input;
  /** The call's abort signal (its deadline). */
  readonly signal?: AbortSignal;
}

class S3Failure extends Error {
  readonly $metadata: { httpStatusCode: number };
  constructor(name: string, status: number, message = name) {
    super(message);
    this.name = name;
    this.$metadata = { httpStatusCode: status };
  }
}

export class FakeS3 {
  readonly objects = new Map<string, FakeObject>();
  readonly calls: Call[] = [];
  private sequence = 0x1000;
  /** Runs before each call is answered (a race's other writer, a fault); may throw to fail the call. */
  before?: (call: Call) => void | Promise<void>;

  constructor(private readonly options: { listBucket?: boolean } = {}) {}

  readonly client = {
    send: (command: { constructor: { name: string }; input: Input }, options: { abortSignal?: AbortSignal } = {}) =>
      this.send(command.constructor.name.replace(/Command$/, ''), command.input, options.abortSignal),
  } as unknown as S3Client;

  /** Puts an object as an upload would (outside the function), returning what its S3 event carries. */
  upload(bucket: string, key: string, body: Buffer, metadata: Record<string, string> = {}): { eTag: string; sequencer: string } {
    const eTag = md5(body);
    this.objects.set(`${bucket}/${key}`, { body, eTag, metadata });
    return { eTag, sequencer: this.nextSequencer() };
  }

  /** Deletes as a user would, returning the removal event's sequencer. */
  remove(bucket: string, key: string): { sequencer: string } {
    this.objects.delete(`${bucket}/${key}`);
    return { sequencer: this.nextSequencer() };
  }

  get(bucket: string, key: string): FakeObject | undefined {
    return this.objects.get(`${bucket}/${key}`);
  }

  keys(prefix = ''): string[] {
    return [...this.objects.keys()].filter((k) => k.split('/').slice(1).join('/').startsWith(prefix)).sort();
  }

  private nextSequencer(): string {
    return (this.sequence++).toString(16).toUpperCase().padStart(16, '0');
  }

  private async send(name: string, input: Input, signal?: AbortSignal): Promise<unknown> {
    const call = { name, input, signal };
    this.calls.push(call);
    await this.before?.(call);
    const id = `${input.Bucket}/${input.Key}`;
    const there = this.objects.get(id);
    const missing = () => (this.options.listBucket === false ? new S3Failure('AccessDenied', 403) : new S3Failure(name === 'HeadObject' ? 'NotFound' : 'NoSuchKey', 404));
    const ifMatch = input.IfMatch as string | undefined;
    const ifNoneMatch = input.IfNoneMatch as string | undefined;
    const preconditions = () => {
      if (ifMatch !== undefined && (!there || ifMatch !== `"${there.eTag}"`)) throw there || name !== 'GetObject' ? new S3Failure('PreconditionFailed', 412) : missing();
      if (ifNoneMatch === '*' && there) throw new S3Failure('PreconditionFailed', 412);
    };
    switch (name) {
      case 'GetObject':
      case 'HeadObject': {
        if (!there) throw missing();
        preconditions();
        const head = { ETag: `"${there.eTag}"`, ContentLength: there.body.length, Metadata: { ...there.metadata }, ContentType: there.contentType };
        return name === 'HeadObject' ? head : { ...head, Body: Readable.from([there.body]) };
      }
      case 'PutObject': {
        if (ifMatch !== undefined && !there) throw new S3Failure('NoSuchKey', 404);
        preconditions();
        const body = Buffer.from(input.Body as Buffer);
        const eTag = md5(body);
        this.objects.set(id, { body, eTag, metadata: { ...((input.Metadata as Record<string, string>) ?? {}) }, contentType: input.ContentType as string | undefined });
        return { ETag: `"${eTag}"` };
      }
      case 'DeleteObject': {
        if (ifMatch !== undefined) {
          if (!there) throw new S3Failure('NoSuchKey', 404);
          preconditions();
        }
        this.objects.delete(id);
        return {};
      }
      default:
        throw new Error(`the fake S3 does not answer ${name}`);
    }
  }
}

const md5 = (b: Buffer) => createHash('md5').update(b).digest('hex');
