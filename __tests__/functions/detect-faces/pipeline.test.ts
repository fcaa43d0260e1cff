/** The pipeline over fakes: stage order, what reaches each port, error mapping, logs; no OpenCV, no S3, no network. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { ServiceError, downloadFailed, storageFailed, unsupportedImage } from '../../../functions/common/errors';
import type { DetectMetricsInput } from '../../../functions/common/metrics';
import type { DetectOptions } from '../../../functions/detect-faces/detect/detectors';
import { parseJpeg } from '../../../functions/detect-faces/output/jpeg-segments';
import { LosslessRefused, type LosslessEditor } from '../../../functions/detect-faces/output/lossless';
import { jpegIcc, jpegOrientation } from '../../../functions/detect-faces/output/metadata';
import type { MarkSpec } from '../../../functions/detect-faces/output/redact-plan';
import { detectFaces, MAX_DECODE_LEVEL, type PipelinePorts, type PipelineSettings } from '../../../functions/detect-faces/pipeline';
import { fakeIccProfile, leakyJpeg, SECRETS } from '../../helpers/leaky-jpeg';
import { recordingLogger } from '../../helpers/log';
import { FACES_DIR } from '../../helpers/paths';
import { tinyJpeg, tinyJpegText } from '../../helpers/tiny-jpeg';

// parseJpeg as it is, its calls counted: a request parses its JPEG's segments once.
jest.mock('../../../functions/detect-faces/output/jpeg-segments', () => {
  const actual = jest.requireActual('../../../functions/detect-faces/output/jpeg-segments');
  return { ...actual, parseJpeg: jest.fn(actual.parseJpeg) };
});

/** A 1x1 PNG header claiming 400x300: enough for the byte sniffing stage. */
function pngBytes(width = 400, height = 300): Buffer {
  const b = Buffer.alloc(64);
  Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52]).copy(b, 0);
  b.writeUInt32BE(width, 16);
  b.writeUInt32BE(height, 20);
  b.write('IEND', 56);
  return b;
}

/** LosslessImage.reduced: with a codec that takes no BGR pixels, the pipeline decodes detection's image with the codec. */
const notUsed = (): never => {
  throw new Error('the pipeline does not ask the coefficients for a reduced image');
};

/**
 * A fake coefficient handle's close: each call counted in `closes` (and `onClose` told); a second
 * call throws. Stricter than LosslessImage.close (again: nothing), because the pipeline closes each
 * handle it opens exactly once.
 */
function recordedClose(onClose: () => void = () => undefined) {
  const handle = { closes: 0 };
  const close = () => {
    handle.closes++;
    onClose();
    if (handle.closes > 1) throw new Error('a coefficient handle closed twice');
  };
  return { handle, close };
}

interface FakeImage {
  width: number;
  height: number;
  marks: number;
}

function fakes(overrides: Partial<PipelinePorts<FakeImage>> = {}) {
  const calls: string[] = [];
  const stored: { key: string; jpeg: Buffer; metadata: Record<string, string> }[] = [];
  const { log, lines } = recordingLogger();
  const detectOptions: DetectOptions[] = [];
  const marks: MarkSpec[] = [];
  const metrics: DetectMetricsInput[] = [];
  const ports: PipelinePorts<FakeImage> = {
    fetch: async (url) => {
      calls.push(`fetch ${url.hostname}`);
      return { data: pngBytes(), finalUrl: url, redirects: 1 };
    },
    codec: {
      decode: () => (calls.push('decode'), { width: 400, height: 300, marks: 0 }),
      size: (image) => ({ width: image.width, height: image.height }),
      mark: (image, boxes, spec) => {
        calls.push(`mark ${boxes.length}`);
        marks.push(spec);
        image.marks += boxes.length;
      },
      encode: (image) => (calls.push('encode'), tinyJpeg(`jpeg with ${image.marks} marks`)),
      release: () => void calls.push('release'),
    },
    detector: {
      kind: 'fake',
      detect: (_image, options) => {
        calls.push('detect');
        detectOptions.push(options);
        return {
          boxes: [
            { x: 10, y: 20, width: 30, height: 30, score: 0.9, landmarks: [[1, 2], [3, 4], [5, 6], [7, 8], [9, 10]] },
            { x: 100, y: 50, width: 40, height: 40, score: 0.85 },
          ],
          minFaceSize: options.minFaceSize ?? 20,
        };
      },
    },
    store: {
      put: async (key, jpeg, metadata) => {
        calls.push('store');
        stored.push({ key, jpeg, metadata });
        return `https://bucket.example/${key}`;
      },
    },
    log,
    metrics: (record) => void metrics.push(record),
    now: () => new Date('2026-11-26T12:00:00.000Z'),
    ...overrides,
  };
  return { ports, calls, stored, lines, detectOptions, marks, metrics };
}

const settings: PipelineSettings = {
  imagePrefix: 'tmp/',
  jpegQuality: 90,
  maxImageBytes: 1 << 20,
  maxImagePixels: 40e6,
  downloadTimeoutMs: 1000,
  allowedLoopbackPrefixes: [],
  minScore: 0.7,
  maxNetworkPixels: 5e6,
};
const event = { imageUrl: 'https://photos.example/a.png?sig=secret' };

test('stages run in order and the result is what the ports produced', async () => {
  const f = fakes();
  const result = await detectFaces(event, f.ports, settings);
  expect(f.calls).toEqual(['fetch photos.example', 'decode', 'detect', 'mark 2', 'encode', 'release', 'store']);
  expect(result).toEqual({
    faces: 2,
    outputUrl: expect.stringMatching(/^https:\/\/bucket\.example\/tmp\/2026-11-26T12-00-00-000Z-[0-9a-f-]{36}\.jpg$/),
    boxes: [
      {
        x: 10,
        y: 20,
        width: 30,
        height: 30,
        score: 0.9,
        landmarks: { eyeLeft: { x: 1, y: 2 }, eyeRight: { x: 3, y: 4 }, nose: { x: 5, y: 6 }, mouthLeft: { x: 7, y: 8 }, mouthRight: { x: 9, y: 10 } },
      },
      { x: 100, y: 50, width: 40, height: 40, score: 0.85 },
    ],
    width: 400,
    height: 300,
    minFaceSize: 20,
    mark: 'box',
    output: 'reencoded',
  });
  expect(f.stored).toHaveLength(1);
  expect(tinyJpegText(f.stored[0].jpeg)).toBe('jpeg with 2 marks');
});

test('the stored JPEG carries the source\'s ICC profile and none of its other metadata', async () => {
  const source = leakyJpeg(fs.readFileSync(path.join(FACES_DIR, 'grace_hopper_512x512.jpg')), { orientation: 6 });
  const f = fakes({ fetch: async (url) => ({ data: source, finalUrl: url, redirects: 0 }) });
  await detectFaces(event, f.ports, settings);
  const stored = f.stored[0].jpeg;
  for (const secret of Object.values(SECRETS)) expect(stored.includes(secret)).toBe(false);
  expect(stored.includes('Exif')).toBe(false); // re-encoded upright: no Orientation needed
  expect(jpegIcc(parseJpeg(stored))?.equals(fakeIccProfile())).toBe(true);
  expect(tinyJpegText(stored)).toBe('jpeg with 2 marks');
});

describe('output: a JPEG goes through the coefficient path unless asked otherwise or refused', () => {
  const jpegSource = leakyJpeg(fs.readFileSync(path.join(FACES_DIR, 'grace_hopper_512x512.jpg')), { orientation: 6 });
  /** A coefficient editor that records what reaches it; `refuse` makes open() refuse. */
  function editor(refuse?: string) {
    const seen: { opened: { width: number; height: number }[]; marked: unknown[]; closed: number } = { opened: [], marked: [], closed: 0 };
    const lossless: LosslessEditor = {
      open: (jpeg, view) => {
        if (refuse) throw new LosslessRefused(refuse);
        expect(jpeg).toBe(jpegSource);
        seen.opened.push(view);
        return {
          orientation: 6,
          info: { width: 300, height: 400, components: 3, mcuWidth: 16, mcuHeight: 16, restartInterval: 0, progressive: false },
          reduced: notUsed,
          mark: (boxes, spec) => void seen.marked.push({ boxes: boxes.length, spec: spec.mode }),
          save: () => tinyJpeg('coefficients'),
          close: recordedClose(() => void seen.closed++).close,
        };
      },
    };
    return { lossless, seen };
  }
  const jpegFetch = { fetch: async (url: URL) => ({ data: jpegSource, finalUrl: url, redirects: 0 }) };

  test('lossless by default: marked in the coefficients, the orientation and ICC kept, nothing else; the codec neither marks nor encodes', async () => {
    const { lossless, seen } = editor();
    const f = fakes({ ...jpegFetch, lossless });
    const result = await detectFaces({ ...event, mark: 'fill' }, f.ports, settings);
    expect(result.output).toBe('lossless');
    expect(f.calls).toEqual(['decode', 'detect', 'release', 'store']);
    expect(seen).toEqual({ opened: [{ width: 400, height: 300 }], marked: [{ boxes: 2, spec: 'fill' }], closed: 1 });
    const stored = f.stored[0];
    expect(stored.metadata).toEqual({ mark: 'fill', output: 'lossless' });
    expect(tinyJpegText(stored.jpeg)).toBe('coefficients');
    expect(jpegOrientation(parseJpeg(stored.jpeg))).toBe(6);
    expect(jpegIcc(parseJpeg(stored.jpeg))?.equals(fakeIccProfile())).toBe(true);
    for (const secret of Object.values(SECRETS)) expect(stored.jpeg.includes(secret)).toBe(false);
    expect(f.lines[0].fields).toMatchObject({ output: 'lossless' });
    expect(f.lines[0].fields).not.toHaveProperty('losslessRefused');
  });

  test.each<[string, Partial<PipelinePorts<FakeImage>>, object, string | undefined]>([
    ['output reencode asked', { lossless: editor().lossless }, { output: 'reencode' }, undefined],
    ['a PNG source', { lossless: editor().lossless, fetch: fakes().ports.fetch }, {}, undefined],
    ['the file refused', { lossless: editor('the coefficient path does not take this JPEG: arithmetic coding').lossless }, {}, 'the coefficient path does not take this JPEG: arithmetic coding'],
    ['the addon unavailable', { lossless: { unavailable: '@facedetect/jpeg-lossless did not load' } }, {}, '@facedetect/jpeg-lossless did not load'],
    ['no editor', {}, {}, 'no coefficient path is configured'],
  ])('%s: re-encoded upright, the result and the log say so', async (_name, overrides, options, refused) => {
    const f = fakes({ ...jpegFetch, ...overrides });
    const result = await detectFaces({ ...event, ...options }, f.ports, settings);
    expect(result.output).toBe('reencoded');
    expect(f.calls.filter((c) => !c.startsWith('fetch'))).toEqual(['decode', 'detect', 'mark 2', 'encode', 'release', 'store']);
    expect(f.stored[0].metadata).toEqual({ mark: 'box', output: 'reencoded' });
    expect(jpegOrientation(parseJpeg(f.stored[0].jpeg))).toBe(1);
    expect(f.lines[0].fields.losslessRefused).toBe(refused);
  });

  test('a failure while marking the coefficients closes the file and falls back to a re-encode', async () => {
    const { lossless, seen } = editor();
    const failing: LosslessEditor = {
      open: (jpeg, view) => ({
        ...lossless.open(jpeg, view),
        mark: () => {
          throw new Error('ERR_JPEG_MEMORY out of memory');
        },
      }),
    };
    const f = fakes({ ...jpegFetch, lossless: failing });
    expect((await detectFaces(event, f.ports, settings)).output).toBe('reencoded');
    expect(seen.closed).toBe(1);
    expect(f.lines[0].fields.losslessRefused).toBe('ERR_JPEG_MEMORY out of memory');
  });

  test('an unknown output is an InvalidInput naming the choices', async () => {
    const f = fakes();
    await expect(detectFaces({ ...event, output: 'raw' }, f.ports, settings)).rejects.toMatchObject({ code: 'InvalidInput', message: expect.stringContaining('output must be') });
  });
});

describe('the decode detection needs: reduced for the coefficient path, whole when a re-encode may mark it', () => {
  // 500x375 stored, tagged 6: the viewer sees 375x500.
  const jpegSource = leakyJpeg(fs.readFileSync(path.join(FACES_DIR, '2008_001322.jpg')), { orientation: 6 });
  const jpegFetch = { fetch: async (url: URL) => ({ data: jpegSource, finalUrl: url, redirects: 0 }) };
  function setup(finest: number, opts: { refuse?: string; reducedSize?: (level: number) => { width: number; height: number } } = {}) {
    const asked: { width: number; height: number; options: DetectOptions }[] = [];
    const levels: number[] = [];
    const released: FakeImage[] = [];
    const opened: { width: number; height: number }[] = [];
    const shrink = (level: number) => ({ width: Math.ceil(375 / 2 ** level), height: Math.ceil(500 / 2 ** level) });
    const lossless: LosslessEditor = {
      open: (_jpeg, view) => {
        if (opts.refuse) throw new LosslessRefused(opts.refuse);
        opened.push(view);
        return {
          orientation: 6,
          info: { width: 500, height: 375, components: 3, mcuWidth: 16, mcuHeight: 16, restartInterval: 0, progressive: false },
          reduced: notUsed,
          mark: () => undefined,
          save: () => tinyJpeg('coefficients'),
          close: recordedClose().close,
        };
      },
    };
    const f = fakes({ ...jpegFetch, lossless });
    const ports: PipelinePorts<FakeImage> = {
      ...f.ports,
      codec: {
        ...f.ports.codec,
        decode: (_bytes, level = 0) => (levels.push(level), { ...(level ? (opts.reducedSize ?? shrink)(level) : shrink(0)), marks: 0 }),
        release: (image) => void released.push(image),
      },
      detector: { ...f.ports.detector, finestLevel: (width, height, options) => (asked.push({ width, height, options }), finest) },
    };
    return { f, ports, asked, levels, released, opened };
  }

  test('a JPEG marked in its coefficients is decoded at the coarsest level the plan reads; boxes and sizes are the photo\'s', async () => {
    const s = setup(2);
    const result = await detectFaces({ ...event, mark: 'fill', minFaceSize: 40 }, s.ports, settings);
    expect(result).toMatchObject({ output: 'lossless', width: 375, height: 500 });
    expect(s.asked).toEqual([{ width: 375, height: 500, options: expect.objectContaining({ mark: 'fill', minFaceSize: 40, maxNetworkPixels: 5e6 }) }]);
    expect(s.levels).toEqual([2]);
    expect(s.f.detectOptions[0].reduced).toEqual({ level: 2, width: 375, height: 500 });
    expect(s.opened).toEqual([{ width: 375, height: 500 }]);
    expect(s.released).toEqual([{ width: 94, height: 125, marks: 0 }]);
  });

  test('at most 1/8 (libjpeg\'s smallest scale), whatever the plan allows', async () => {
    const s = setup(5);
    await detectFaces(event, s.ports, settings);
    expect(s.levels).toEqual([MAX_DECODE_LEVEL]);
    expect(s.f.detectOptions[0].reduced).toEqual({ level: MAX_DECODE_LEVEL, width: 375, height: 500 });
  });

  test('a re-encode asked: decoded whole, the detector told nothing of levels', async () => {
    const s = setup(2);
    expect((await detectFaces({ ...event, output: 'reencode' }, s.ports, settings)).output).toBe('reencoded');
    expect(s.levels).toEqual([0]);
    expect(s.f.detectOptions[0]).not.toHaveProperty('reduced');
  });

  test('the coefficient path refusing after a reduced decode: the photo is decoded whole for the re-encode, and both released', async () => {
    const s = setup(1, { refuse: 'arithmetic coding' });
    const result = await detectFaces(event, s.ports, settings);
    expect(result).toMatchObject({ output: 'reencoded', width: 375, height: 500 });
    expect(s.levels).toEqual([1, 0]);
    expect(s.f.calls.filter((c) => c.startsWith('mark') || c === 'encode')).toEqual(['mark 2', 'encode']);
    expect(s.released).toEqual([
      { width: 188, height: 250, marks: 0 },
      { width: 375, height: 500, marks: 2 },
    ]);
    expect(s.f.lines[0].fields.losslessRefused).toBe('arithmetic coding');
  });

  test('a reduced decode of another size than the header promises: decoded again whole, detected as it is', async () => {
    const s = setup(1, { reducedSize: () => ({ width: 100, height: 100 }) });
    await detectFaces(event, s.ports, settings);
    expect(s.levels).toEqual([1, 0]);
    expect(s.f.detectOptions[0]).not.toHaveProperty('reduced');
    expect(s.released[0]).toEqual({ width: 100, height: 100, marks: 0 });
  });

  test('a detector that does not say its finest level: decoded whole', async () => {
    const s = setup(2);
    await detectFaces(event, { ...s.ports, detector: { kind: 'fake', detect: s.ports.detector.detect } }, settings);
    expect(s.levels).toEqual([0]);
  });
});

describe('one entropy decode on the coefficient path: the coefficients first, detection on the image libjpeg made as it read them', () => {
  // 500x375 stored, tagged 6: the viewer sees 375x500.
  const jpegSource = leakyJpeg(fs.readFileSync(path.join(FACES_DIR, '2008_001322.jpg')), { orientation: 6 });
  const jpegFetch = { fetch: async (url: URL) => ({ data: jpegSource, finalUrl: url, redirects: 0 }) };
  /** A codec that takes BGR pixels, an editor that records (each handle's closes in `handles`); `fail` names the step that throws, `source` the fetch (the tagged JPEG). */
  function setup(fail?: 'open' | 'fromBgr' | 'detect' | 'mark' | 'save', source: Partial<PipelinePorts<FakeImage>> = jpegFetch) {
    const f = fakes(source);
    const levels: number[] = [];
    const handles: { closes: number }[] = [];
    // The orientation each decode and open was given.
    const orientations: [string, number | undefined][] = [];
    const lossless: LosslessEditor = {
      open: (jpeg, view, level, orientation) => {
        f.calls.push(`open ${view.width}x${view.height} at ${level ?? 0}`);
        orientations.push(['open', orientation]);
        if (fail === 'open') throw new LosslessRefused('the coefficient path does not take this JPEG: arithmetic coding');
        expect(jpeg).toBe(jpegSource);
        const { handle, close } = recordedClose(() => f.calls.push('close'));
        handles.push(handle);
        return {
          orientation: 6,
          info: { width: 500, height: 375, components: 3, mcuWidth: 16, mcuHeight: 16, restartInterval: 0, progressive: false },
          reduced: (take) => take({ width: Math.ceil(375 / 2 ** level!), height: Math.ceil(500 / 2 ** level!), pixels: Buffer.alloc(3) }),
          mark: (boxes) => {
            f.calls.push(`coefficients marked ${boxes.length}`);
            if (fail === 'mark') throw new Error('ERR_JPEG_MEMORY out of memory');
          },
          save: () => {
            if (fail === 'save') throw new Error('ERR_JPEG_MEMORY out of memory');
            return tinyJpeg('coefficients');
          },
          close,
        };
      },
    };
    const ports: PipelinePorts<FakeImage> = {
      ...f.ports,
      lossless,
      codec: {
        ...f.ports.codec,
        decode: (_bytes, level = 0, orientation) => {
          levels.push(level);
          f.calls.push(`decode ${level}`);
          orientations.push([`decode ${level}`, orientation]);
          return { width: Math.ceil(375 / 2 ** level), height: Math.ceil(500 / 2 ** level), marks: 0 };
        },
        release: (image) => void f.calls.push(`release ${image.width}x${image.height}`),
        fromBgr: (bgr) => {
          f.calls.push(`fromBgr ${bgr.width}x${bgr.height}`);
          if (fail === 'fromBgr') throw new Error('Mat: out of memory');
          return { width: bgr.width, height: bgr.height, marks: 0 };
        },
      },
      detector: {
        ...f.ports.detector,
        detect: (image, options) => {
          if (fail === 'detect') throw new Error('forward failed');
          return f.ports.detector.detect(image, options);
        },
        finestLevel: () => 1,
      },
    };
    return { f, ports, levels, handles, orientations };
  }
  const after = (calls: string[]) => calls.filter((c) => !c.startsWith('fetch'));

  test('opened once at the plan\'s level; detected on its image, freed before the marks; marked and saved in the coefficients; the codec decodes nothing', async () => {
    const s = setup();
    const result = await detectFaces({ ...event, mark: 'fill' }, s.ports, settings);
    expect(result).toMatchObject({ output: 'lossless', width: 375, height: 500, faces: 2 });
    expect(after(s.f.calls)).toEqual(['open 375x500 at 1', 'fromBgr 188x250', 'detect', 'release 188x250', 'coefficients marked 2', 'close', 'store']);
    expect(s.handles).toEqual([{ closes: 1 }]);
    expect(s.f.detectOptions[0].reduced).toEqual({ level: 1, width: 375, height: 500 });
    expect(s.levels).toEqual([]);
    expect(tinyJpegText(s.f.stored[0].jpeg)).toBe('coefficients');
    expect(jpegOrientation(parseJpeg(s.f.stored[0].jpeg))).toBe(6);
    expect(s.f.lines[0].fields).not.toHaveProperty('losslessRefused');
  });

  test('the file refused at open: detected on the codec\'s reduced decode and re-encoded, as without a coefficient path; not opened again', async () => {
    const s = setup('open');
    const result = await detectFaces(event, s.ports, settings);
    expect(result.output).toBe('reencoded');
    expect(after(s.f.calls)).toEqual(['open 375x500 at 1', 'decode 1', 'detect', 'release 188x250', 'decode 0', 'mark 2', 'encode', 'release 375x500', 'store']);
    expect(s.f.lines[0].fields.losslessRefused).toBe('the coefficient path does not take this JPEG: arithmetic coding');
  });

  test.each<[string, 'open' | undefined, string[]]>([
    ['marked in the coefficients', undefined, ['open']],
    ['refused at open, re-encoded', 'open', ['open', 'decode 1', 'decode 0']],
  ])("%s: the JPEG's segments parsed once; their orientation (6) given to each open and decode", async (_name, fail, steps) => {
    const s = setup(fail);
    const parse = jest.mocked(parseJpeg);
    parse.mockClear();
    await detectFaces(event, s.ports, settings);
    expect(parse.mock.calls.filter(([data]) => data === jpegSource)).toHaveLength(1);
    expect(s.orientations).toEqual(steps.map((step) => [step, 6]));
  });

  test.each(['mark', 'save'] as const)('a throw in %s: the coefficients closed before the photo is decoded whole for a re-encode', async (step) => {
    const s = setup(step);
    expect((await detectFaces(event, s.ports, settings)).output).toBe('reencoded');
    const calls = after(s.f.calls);
    expect(calls.indexOf('close')).toBeLessThan(calls.indexOf('decode 0'));
    expect(s.handles).toEqual([{ closes: 1 }]);
    expect(s.f.lines[0].fields.losslessRefused).toBe('ERR_JPEG_MEMORY out of memory');
  });

  test.each(['fromBgr', 'detect'] as const)('a throw in %s: the request fails, the coefficients closed and every image released', async (step) => {
    const s = setup(step);
    await expect(detectFaces(event, s.ports, settings)).rejects.toMatchObject({ code: 'Internal' });
    const calls = after(s.f.calls);
    expect(s.handles).toEqual([{ closes: 1 }]);
    expect(calls.filter((c) => c.startsWith('fromBgr')).length).toBe(calls.filter((c) => c.startsWith('release')).length + (step === 'fromBgr' ? 1 : 0));
    expect(s.f.stored).toHaveLength(0);
  });

  test.each<[string, object, Partial<PipelinePorts<FakeImage>>]>([
    ['a re-encode asked', { output: 'reencode' }, jpegFetch],
    ['a PNG', {}, { fetch: async (url: URL) => ({ data: pngBytes(), finalUrl: url, redirects: 0 }) }],
  ])('%s: the codec decodes whole, then detects; nothing opened', async (_name, options, source) => {
    const s = setup(undefined, source);
    expect((await detectFaces({ ...event, ...options }, s.ports, settings)).output).toBe('reencoded');
    expect(after(s.f.calls).slice(0, 2)).toEqual(['decode 0', 'detect']);
    expect(s.f.calls.some((c) => c.startsWith('open'))).toBe(false);
  });
});

test('request options reach the detector; the settings fill what the request leaves out', async () => {
  const f = fakes();
  await detectFaces({ ...event, minFaceSize: 24, maxFaces: 5 }, f.ports, settings);
  await detectFaces({ ...event, minScore: 0.6 }, f.ports, settings);
  // The mark picks the detector's operating point; no score from the request or the settings leaves it to that.
  await detectFaces({ ...event, mark: 'fill' }, f.ports, { ...settings, minScore: undefined });
  expect(f.detectOptions).toEqual([
    { mark: 'box', minFaceSize: 24, minScore: 0.7, maxFaces: 5, maxNetworkPixels: 5e6 },
    { mark: 'box', minFaceSize: undefined, minScore: 0.6, maxFaces: 1000, maxNetworkPixels: 5e6 },
    { mark: 'fill', minFaceSize: undefined, minScore: undefined, maxFaces: 1000, maxNetworkPixels: 5e6 },
  ]);
});

test('one log line per request with every stage timed, the URL redacted, no bytes', async () => {
  const f = fakes();
  await detectFaces(event, f.ports, settings);
  expect(f.lines).toHaveLength(1);
  const { level, message, fields } = f.lines[0];
  expect([level, message]).toEqual(['info', 'detect-faces done']);
  expect(Object.keys(fields.timingsMs as object)).toEqual(['download', 'decode', 'detect', 'annotate', 'encode', 'upload']);
  expect(fields).toMatchObject({ source: 'https://photos.example/a.png?<redacted>', format: 'png', faces: 2, minFaceSize: 20, detector: 'fake', redirects: 1 });
  expect(JSON.stringify(fields)).not.toContain('secret');
  // The same figures as metrics, once.
  expect(f.metrics).toEqual([{ timingsMs: fields.timingsMs, faces: 2, totalMs: fields.totalMs, detector: 'fake', outcome: 'ok' }]);
});

test('a detection over its time budget is logged as such; one within it says nothing of it', async () => {
  const over = fakes({ detector: { kind: 'fake', detect: () => ({ boxes: [], minFaceSize: 300, overBudget: true }) } });
  await detectFaces(event, over.ports, settings);
  expect(over.lines[0].fields).toMatchObject({ minFaceSize: 300, overBudget: true });
  const within = fakes();
  await detectFaces(event, within.ports, settings);
  expect(within.lines[0].fields).not.toHaveProperty('overBudget');
});

test('the marking: boxes by default; a redaction with its defaults or the request\'s shape and padding; recorded on the object and in the result', async () => {
  const f = fakes();
  expect((await detectFaces(event, f.ports, settings)).mark).toBe('box');
  expect((await detectFaces({ ...event, mark: 'fill' }, f.ports, settings)).mark).toBe('fill');
  await detectFaces({ ...event, mark: 'blur', shape: 'rect', padding: 0.1 }, f.ports, settings);
  expect(f.marks).toEqual([
    { mode: 'box', shape: 'ellipse', padding: 0.4 },
    { mode: 'fill', shape: 'ellipse', padding: 0.4 },
    { mode: 'blur', shape: 'rect', padding: 0.1 },
  ]);
  expect(f.stored.map((s) => s.metadata)).toEqual([{ mark: 'box', output: 'reencoded' }, { mark: 'fill', output: 'reencoded' }, { mark: 'blur', output: 'reencoded' }]);
});

test.each([
  [{ shape: 'rect' }, /^shape applies only to a redaction: set mark to fill, pixelate or blur \(mark is box\)$/],
  [{ mark: 'box', padding: 0 }, /^padding applies only to a redaction/],
  [{ shape: 'ellipse', padding: 0.4 }, /^shape and padding apply only to a redaction/],
])('%j with box: InvalidInput naming the fields, before any download', async (options, message) => {
  const f = fakes();
  await expect(detectFaces({ ...event, ...options }, f.ports, settings)).rejects.toMatchObject({ code: 'InvalidInput', message: expect.stringMatching(message) });
  expect(f.calls).toEqual([]);
});

describe('nothing is stored when any stage fails, and the error keeps its code', () => {
  const boom = () => {
    throw new Error('native crash detail');
  };
  test.each<[string, Partial<PipelinePorts<FakeImage>> | undefined, unknown, string, string]>([
    ['invalid event', undefined, { imageUrl: 'ftp://x/' }, 'InvalidInput', 'warn'],
    ['an unknown mark', undefined, { ...event, mark: 'sparkle' }, 'InvalidInput', 'warn'],
    ['padding out of range', undefined, { ...event, mark: 'fill', padding: -1 }, 'InvalidInput', 'warn'],
    ['padding over 1', undefined, { ...event, mark: 'fill', padding: 1.5 }, 'InvalidInput', 'warn'],
    ['a shape with box', undefined, { ...event, shape: 'rect' }, 'InvalidInput', 'warn'],
    ['padding with box', undefined, { ...event, mark: 'box', padding: 0.2 }, 'InvalidInput', 'warn'],
    ['minFaceSize larger than the image', undefined, { ...event, minFaceSize: 401 }, 'InvalidInput', 'warn'],
    ['download', { fetch: async () => { throw downloadFailed('the server answered HTTP 404'); } }, event, 'DownloadFailed', 'warn'],
    ['not an image', { fetch: async (url) => ({ data: Buffer.from('<html>'), finalUrl: url, redirects: 0 }) }, event, 'UnsupportedImage', 'warn'],
    ['decode', { codec: { ...fakes().ports.codec, decode: () => { throw unsupportedImage('corrupt'); } } }, event, 'UnsupportedImage', 'warn'],
    ['detector crash', { detector: { kind: 'fake', detect: boom } }, event, 'Internal', 'error'],
    ['encode crash', { codec: { ...fakes().ports.codec, encode: boom } }, event, 'Internal', 'error'],
    ['store', { store: { put: async () => { throw storageFailed('S3 refused'); } } }, event, 'StorageFailed', 'warn'],
  ])('%s', async (_name, overrides, input, code, level) => {
    const f = fakes(overrides);
    const error = await detectFaces(input, f.ports, settings).then(
      () => undefined,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ServiceError);
    expect((error as ServiceError).code).toBe(code);
    if (code === 'Internal') expect((error as Error).message).not.toContain('native crash detail');
    expect(f.stored).toEqual([]);
    expect(f.lines).toHaveLength(1);
    expect(f.lines[0]).toMatchObject({ level, message: 'detect-faces failed', fields: { code } });
    expect(f.metrics).toEqual([expect.objectContaining({ outcome: code, detector: 'fake' })]);
    // A decoded image is released exactly once, whichever stage failed after it.
    expect(f.calls.filter((c) => c === 'release')).toHaveLength(f.calls.includes('decode') ? 1 : 0);
  });
});
