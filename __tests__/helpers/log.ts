/** A logger that keeps its lines, for assertions on structured logs. */
import { createLogger, type Logger } from '../../functions/common/logger';

export function memoryLogger(): { log: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  return { log: createLogger({}, { level: 'debug', write: (line) => lines.push(JSON.parse(line)) }), lines };
}

export interface RecordedLine {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  fields: Record<string, unknown>;
}

/** A Logger port that records each call as given (for pipeline tests: no formatting in between). */
export function recordingLogger(): { log: Logger; lines: RecordedLine[] } {
  const lines: RecordedLine[] = [];
  const at = (level: RecordedLine['level']) => (message: string, fields: Record<string, unknown> = {}) => void lines.push({ level, message, fields });
  const log: Logger = { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error'), child: () => log };
  return { log, lines };
}

/** Puts these environment variables back as they were after each test of the file. */
export function restoreEnvAfterEach(names: readonly string[]): void {
  const saved = Object.fromEntries(names.map((k) => [k, process.env[k]]));
  afterEach(() => {
    for (const k of names) {
      if (saved[k] === undefined) delete process.env[k];
      else process.env[k] = saved[k];
    }
    jest.restoreAllMocks();
  });
}
