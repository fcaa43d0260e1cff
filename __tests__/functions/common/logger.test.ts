/**
 * The logger on Powertools: the line shape the log readers rely on, levels from the environment
 * (Lambda's advanced logging controls win), cold start per container, nothing secret or bulky.
 */
import { createLogger, redactUrl } from '../../../functions/common/logger';
import { restoreEnvAfterEach } from '../../helpers/log';

restoreEnvAfterEach(['LOG_LEVEL', 'POWERTOOLS_LOG_LEVEL', 'AWS_LAMBDA_LOG_LEVEL', 'AWS_LAMBDA_INITIALIZATION_TYPE', '_X_AMZN_TRACE_ID']);

function collecting(base: Record<string, unknown> = {}, options: Parameters<typeof createLogger>[1] = {}) {
  const lines: string[] = [];
  const log = createLogger(base, { write: (line) => lines.push(line), ...options });
  return { log, lines, parsed: () => lines.map((l) => JSON.parse(l)) };
}

test('one JSON line per call: timestamp, lower-case level, message, base and child fields', () => {
  const now = new Date('2026-11-26T12:00:00.000Z');
  const { log, lines, parsed } = collecting({ function: 'detect-faces' }, { now: () => now });
  log.child({ requestId: 'req-1' }).info('detect-faces done', { faces: 2, timingsMs: { download: 1.5 } });
  expect(lines).toHaveLength(1);
  expect(lines[0]).not.toContain('\n');
  expect(parsed()[0]).toEqual({
    timestamp: '2026-11-26T12:00:00.000Z',
    level: 'info',
    message: 'detect-faces done',
    function: 'detect-faces',
    requestId: 'req-1',
    coldStart: false,
    faces: 2,
    timingsMs: { download: 1.5 },
  });
});

test('cold start: true for the first invocation of an on-demand container only', () => {
  process.env.AWS_LAMBDA_INITIALIZATION_TYPE = 'on-demand';
  const { log, parsed } = collecting();
  log.child({ requestId: 'a' }).info('first');
  log.child({ requestId: 'b' }).info('second');
  expect(parsed().map((l) => [l.requestId, l.coldStart])).toEqual([
    ['a', true],
    ['b', false],
  ]);
});

test('children add fields; call fields win over inherited ones', () => {
  const { log, parsed } = collecting({ function: 'cleanup', k: 'base' });
  log.child({ stage: 'list' }).child({ k: 'child' }).warn('w', { extra: 1 });
  log.error('e', { k: 'call' });
  expect(parsed()).toMatchObject([
    { level: 'warn', function: 'cleanup', stage: 'list', k: 'child', extra: 1 },
    { level: 'error', function: 'cleanup', k: 'call' },
  ]);
  expect(parsed()[1]).not.toHaveProperty('stage');
});

test('levels: info by default; LOG_LEVEL or POWERTOOLS_LOG_LEVEL in any case; an explicit level', () => {
  const quiet = collecting();
  quiet.log.debug('hidden');
  quiet.log.info('shown');
  expect(quiet.parsed().map((l) => l.message)).toEqual(['shown']);

  process.env.LOG_LEVEL = 'debug';
  const verbose = collecting();
  verbose.log.debug('d');
  expect(verbose.parsed().map((l) => l.level)).toEqual(['debug']);

  delete process.env.LOG_LEVEL;
  process.env.POWERTOOLS_LOG_LEVEL = 'ERROR';
  const errorsOnly = collecting();
  errorsOnly.log.warn('w');
  errorsOnly.log.error('e');
  expect(errorsOnly.parsed().map((l) => l.message)).toEqual(['e']);

  const explicit = collecting({}, { level: 'warn' });
  explicit.log.info('i');
  explicit.log.warn('w');
  expect(explicit.parsed().map((l) => l.message)).toEqual(['w']);
});

test("AWS_LAMBDA_LOG_LEVEL (Lambda's advanced logging controls) wins over a more verbose level", () => {
  process.env.AWS_LAMBDA_LOG_LEVEL = 'WARN';
  const { log, parsed } = collecting({}, { level: 'debug' });
  log.debug('d');
  log.info('i');
  log.warn('w');
  const messages = parsed().map((l) => l.message);
  expect(messages).not.toContain('d');
  expect(messages).not.toContain('i');
  expect(messages).toContain('w');
});

test('the X-Ray trace id is on the line when Lambda provides one', () => {
  process.env._X_AMZN_TRACE_ID = 'Root=1-5759e988-bd862e3fe1be46a994272793;Parent=53995c3f42cd8ad8;Sampled=1';
  const { log, parsed } = collecting();
  log.info('traced');
  expect(parsed()[0].xrayTraceId).toBe('1-5759e988-bd862e3fe1be46a994272793');
});

test('errors as name and message only; bytes as their length', () => {
  const { log, parsed } = collecting();
  const err = Object.assign(new Error('native crash detail'), { name: 'CvException', secret: 'x' });
  log.error('failed', { error: err, image: Buffer.from('JPEGDATA'), pixels: new Uint8Array(12), nested: { body: Buffer.alloc(3) } });
  const line = parsed()[0];
  expect(line.error).toEqual({ name: 'CvException', message: 'native crash detail' });
  expect([line.image, line.pixels, line.nested.body]).toEqual(['<8 bytes>', '<12 bytes>', '<3 bytes>']);
  expect(JSON.stringify(line)).not.toMatch(/stack|JPEGDATA/);
});

test('without a sink: one line on stdout for info, stderr for warn and error (as Powertools writes)', () => {
  const out: string[] = [];
  const err: string[] = [];
  jest.spyOn(process.stdout, 'write').mockImplementation((chunk: string | Uint8Array) => (out.push(String(chunk)), true));
  jest.spyOn(process.stderr, 'write').mockImplementation((chunk: string | Uint8Array) => (err.push(String(chunk)), true));
  const log = createLogger({ function: 'cleanup' });
  log.child({ requestId: 'r' }).info('cleanup finished', { deleted: 3 });
  log.warn('careful');
  expect(out).toHaveLength(1);
  expect(out[0].endsWith('\n')).toBe(true);
  expect(JSON.parse(out[0])).toMatchObject({ level: 'info', message: 'cleanup finished', function: 'cleanup', requestId: 'r', deleted: 3 });
  expect(err.map((l) => JSON.parse(l).message)).toEqual(['careful']);
});

test('redactUrl keeps scheme, host and path only', () => {
  expect(redactUrl('https://user:pw@photos.example:8443/a/b.jpg?X-Amz-Signature=secret#f')).toBe('https://photos.example:8443/a/b.jpg?<redacted>');
  expect(redactUrl('not a url')).toBe('<invalid url>');
});
