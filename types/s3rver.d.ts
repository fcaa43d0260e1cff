declare module 's3rver' {
  interface S3rverOptions {
    address?: string;
    port?: number;
    silent?: boolean;
    directory: string;
    resetOnClose?: boolean;
    allowMismatchedSignatures?: boolean;
    vhostBuckets?: boolean;
    configureBuckets?: { name: string; configs?: (string | Buffer)[] }[];
  }
  class S3rver {
    constructor(options: S3rverOptions);
    run(): Promise<{ address: string; port: number }>;
    close(): Promise<void>;
    /** Koa's request handler factory (S3rver extends Koa); called when the server starts listening. */
    /** S3 event notifications: `on('event', ({ Records }) => ...)` after each object created or deleted (S3rver extends Koa, an EventEmitter). */
    on(event: 'event', listener: (notification: { Records: unknown[] }) => void): this;
    callback(): (req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => unknown;
    /** Its filesystem store (set in the constructor): getMetadata rejects for a missing object; `etag` is the quoted MD5. */
    readonly store: { getMetadata(bucket: string, key: string): Promise<{ etag: string }> };
  }
  export = S3rver;
}
