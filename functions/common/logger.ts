/**
 * Structured logs through Powertools for AWS Lambda's Logger: one JSON object per line, which
 * CloudWatch stores as is. Powertools brings the log level from the environment (Lambda's
 * AWS_LAMBDA_LOG_LEVEL, when set, wins over POWERTOOLS_LOG_LEVEL / LOG_LEVEL), the X-Ray trace id
 * and cold-start tracking; the line keeps the shape the tools read: timestamp, level (lower case),
 * message, then the fields (`requestId`, `coldStart` from `child({ requestId })`).
 * Never log image bytes; URLs go through `redactUrl` (query strings may carry signatures).
 */
import { LogFormatter, LogItem, Logger as PowertoolsLogger } from '@aws-lambda-powertools/logger';
import type { ConstructorOptions, LogAttributes, LogLevel as PowertoolsLevel, UnformattedAttributes } from '@aws-lambda-powertools/logger/types';

import type { LogLevel } from './contract';

export type { LogLevel };

export interface Logger {
  debug(message: string, fields?: Record<string, unknown>): void;
  info(message: string, fields?: Record<string, unknown>): void;
  warn(message: string, fields?: Record<string, unknown>): void;
  error(message: string, fields?: Record<string, unknown>): void;
  /** A logger that adds `fields` to every line (e.g. the request id, once per invocation). */
  child(fields: Record<string, unknown>): Logger;
}

export interface LoggerOptions {
  /** @default POWERTOOLS_LOG_LEVEL or LOG_LEVEL (any case), else info */
  level?: LogLevel;
  /** Where lines go (tests). @default stdout (warn and error: stderr), as Powertools writes them */
  write?: (line: string) => void;
  now?: () => Date;
}

/** The line's shape: what the log readers (tests, local page, CloudWatch queries) expect. */
class LineFormatter extends LogFormatter {
  constructor(private readonly now?: () => Date) {
    super();
  }

  formatAttributes(attributes: UnformattedAttributes, fields: LogAttributes): LogItem {
    return new LogItem({
      attributes: {
        timestamp: (this.now?.() ?? attributes.timestamp).toISOString(),
        level: attributes.logLevel.toLowerCase(),
        message: attributes.message,
        xrayTraceId: attributes.xRayTraceId,
      },
    }).addAttributes(fields);
  }
}

/** Errors as name and message (no stacks or causes in the log), bytes as their length only. */
function redactValues(_key: string, value: unknown): unknown {
  if (value instanceof Error) return { name: value.name, message: value.message };
  if (value instanceof Uint8Array) return `<${value.length} bytes>`;
  // JSON.stringify has already turned a Buffer into { type, data } before a replacer sees it.
  const buffer = value as { type?: unknown; data?: unknown };
  if (buffer && buffer.type === 'Buffer' && Array.isArray(buffer.data)) return `<${buffer.data.length} bytes>`;
  return value;
}

/** Powertools' Logger with an optional line sink; everything else is the library's. */
class LineLogger extends PowertoolsLogger {
  sink?: (line: string) => void;

  protected override createLogger(options?: ConstructorOptions): LineLogger {
    const child = new LineLogger(options);
    child.sink = this.sink;
    return child;
  }

  protected override printLog(logLevel: number, log: LogItem): void {
    if (!this.sink) return super.printLog(logLevel, log);
    log.prepareForPrint();
    this.sink(JSON.stringify(log.getAttributes(), this.getJsonReplacer()));
  }

  /** True for the first invocation of this container (Powertools' cold-start tracking). */
  isFirstInvocation(): boolean {
    return this.getColdStart();
  }
}

export function createLogger(base: Record<string, unknown> = {}, options: LoggerOptions = {}): Logger {
  const envLevel = process.env.POWERTOOLS_LOG_LEVEL || process.env.LOG_LEVEL || undefined;
  const root = new LineLogger({
    // Powertools reads these variables too, but only in upper case; ours were lower case.
    logLevel: (options.level ?? envLevel)?.toUpperCase() as PowertoolsLevel | undefined,
    logFormatter: new LineFormatter(options.now),
    jsonReplacerFn: redactValues,
    persistentKeys: base,
  });
  root.sink = options.write;
  return wrap(root, root);
}

function wrap(logger: LineLogger, root: LineLogger): Logger {
  return {
    debug: (message, fields) => logger.debug(message, fields ?? {}),
    info: (message, fields) => logger.info(message, fields ?? {}),
    warn: (message, fields) => logger.warn(message, fields ?? {}),
    error: (message, fields) => logger.error(message, fields ?? {}),
    child: (fields) => {
      const child = logger.createChild() as unknown as LineLogger;
      // A child with a request id is an invocation: the first one in this container is the cold start.
      child.appendPersistentKeys(typeof fields.requestId === 'string' ? { ...fields, coldStart: root.isFirstInvocation() } : fields);
      return wrap(child, root);
    },
  };
}

/** scheme://host/path, without userinfo, query or fragment. */
export function redactUrl(raw: string): string {
  try {
    const url = new URL(raw);
    return `${url.protocol}//${url.host}${url.pathname}${url.search ? '?<redacted>' : ''}`;
  } catch {
    return '<invalid url>';
  }
}
