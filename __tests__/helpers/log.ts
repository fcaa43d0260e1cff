/** A logger that keeps its lines, for assertions on structured logs. */
import { createLogger, type Logger } from '../../functions/common/logger';

export function memoryLogger(): { log: Logger; lines: Record<string, any>[] } {
  const lines: Record<string, any>[] = [];
  return { log: createLogger({}, { level: 'debug', write: (line) => lines.push(JSON.parse(line)) }), lines };
}
