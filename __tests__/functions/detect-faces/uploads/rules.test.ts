/** The key rule, the metadata parser and the version order: pure, written once, used by the function, the stack, the local stack and the web app. */
import { isUploadKey, outputKey, resultKey } from '../../../../functions/detect-faces/uploads/keys';
import { metadataName, uploadRequest } from '../../../../functions/detect-faces/uploads/request';
import { compareSequencers, receiveCount, unquoteETag } from '../../../../functions/detect-faces/uploads/versions';
import { parseRequest } from '../../../../functions/detect-faces/request';

const prefixes = { inputPrefix: 'inputs/', outputPrefix: 'outputs/', resultPrefix: 'results/' };

test.each([
  ['inputs/a/b.jpg', 'outputs/a/b.jpg', 'results/a/b.jpg.json'],
  ['inputs/a/b.JPEG', 'outputs/a/b.JPEG', 'results/a/b.JPEG.json'],
  ['inputs/a/b.png', 'outputs/a/b.png.jpg', 'results/a/b.png.json'],
  ['inputs/noext', 'outputs/noext.jpg', 'results/noext.json'],
  ['inputs/u/5f0c.webp', 'outputs/u/5f0c.webp.jpg', 'results/u/5f0c.webp.json'],
])('%s -> %s and %s', (input, output, result) => {
  expect(outputKey(input, prefixes)).toBe(output);
  expect(resultKey(input, prefixes)).toBe(result);
});

test('only keys under the input prefix are uploads (not the prefix itself, not folder markers)', () => {
  expect(isUploadKey('inputs/a.jpg', prefixes)).toBe(true);
  expect(isUploadKey('inputs/', prefixes)).toBe(false);
  expect(isUploadKey('inputs/a/', prefixes)).toBe(false);
  expect(isUploadKey('inputsx/a.jpg', prefixes)).toBe(false);
  expect(() => outputKey('tmp/a.jpg', prefixes)).toThrow(RangeError);
});

describe('metadata options: the same parser as a direct call, with the CLI flag names', () => {
  test('names are the CLI flags', () => {
    expect(['minFaceSize', 'minScore', 'maxFaces', 'mark', 'shape', 'padding'].map(metadataName)).toEqual(['min-face-size', 'min-score', 'max-faces', 'mark', 'shape', 'padding']);
  });

  test('text values become the typed options a direct call gives; absent ones stay absent', () => {
    const fromMetadata = uploadRequest({ mark: 'fill', padding: '0.5', 'min-face-size': ' 24 ', 'x-unrelated': 'kept out' }, {});
    const direct = parseRequest({ imageUrl: 'https://example.com/a.jpg', mark: 'fill', padding: 0.5, minFaceSize: 24 });
    expect(fromMetadata).toEqual({ mark: 'fill', padding: 0.5, minFaceSize: 24 });
    expect(direct).toMatchObject(fromMetadata);
    expect(uploadRequest({}, {})).toEqual({});
    // Other tools' metadata, however near in letters to no option: ignored.
    expect(uploadRequest({ mtime: '1733300000', mode: '33188', uid: '0', 'md5chksum': 'x', 's3cmd-attrs': 'x', part: '1', author: 'x', source: 'x', pending: '1', outlet: 'x' }, { mark: 'fill' })).toEqual({ mark: 'fill' });
    // Keys in any case (S3 keeps them lower-case; other tools may not), spelt as the request's
    // field too: S3 turns minFaceSize into minfacesize.
    expect(uploadRequest({ 'Min-Face-Size': '30' }, {})).toEqual({ minFaceSize: 30 });
    expect(uploadRequest({ minfacesize: '30', min_score: '0.5', MaxFaces: '3' }, {})).toEqual({ minFaceSize: 30, minScore: 0.5, maxFaces: 3 });
    expect(uploadRequest({ minfacesize: '30', 'min-face-size': ' 30.0 ', MinScore: '.5', min_score: '0.5' }, {})).toEqual({ minFaceSize: 30, minScore: 0.5 });
    // Decimal numbers as people and String() write them.
    expect(uploadRequest({ 'min-score': '.5', padding: '1e-7', 'max-faces': '+3' }, {})).toEqual({ minScore: 0.5, padding: 1e-7, maxFaces: 3 });
  });

  test('deployment defaults under the metadata', () => {
    expect(uploadRequest({ padding: '0.1' }, { mark: 'blur', padding: 0.3, maxFaces: 3 })).toEqual({ mark: 'blur', padding: 0.1, maxFaces: 3 });
    expect(uploadRequest({ mark: 'box' }, { mark: 'fill', shape: 'rect', padding: 0.3 })).toEqual({ mark: 'box' });
    // Named by the upload itself with box: kept, and refused later as a direct call's would be.
    expect(uploadRequest({ mark: 'box', shape: 'rect' }, {})).toEqual({ mark: 'box', shape: 'rect' });
  });

  test('an output copied back under inputs/ carries its own metadata (mark, output=reencoded, its version): read as a request, not refused', () => {
    expect(uploadRequest({ mark: 'fill', output: 'reencoded', 'source-etag': 'abc', 'source-sequencer': '0055' }, {})).toEqual({ mark: 'fill', output: 'reencode' });
    expect(uploadRequest({ mark: 'box', output: 'lossless' }, {})).toEqual({ mark: 'box', output: 'lossless' });
    // Other words stay refused.
    expect(() => uploadRequest({ output: 'recoded' }, {})).toThrow(/^metadata output must be one of lossless, reencode, got "recoded"$/);
  });

  test.each([
    [{ 'max-faces': '0' }, /^metadata max-faces must be a whole number from 1 to 1000, got "0"$/],
    [{ 'min-face-size': '24px' }, /^metadata min-face-size must be a whole number/],
    [{ mark: '' }, /^metadata mark must be one of box, fill, pixelate, blur, got ""$/],
    [{ shape: 'circle' }, /^metadata shape must be one of ellipse, rect, got "circle"$/],
    [{ 'min-score': '0x1' }, /^metadata min-score must be a number from/],
    [{ minfacesize: '30', 'min-face-size': '40' }, /^metadata minfacesize and min-face-size both set min-face-size, to different values$/],
    // A misspelt option would run with the deployment's default (boxes, where that is box): refused.
    [{ mrak: 'fill' }, /^metadata mrak is not an option \(did you mean mark\?\); an upload's options are min-face-size, min-score, max-faces, mark, shape, padding, output, other metadata is ignored$/],
    [{ shpe: 'rect' }, /did you mean shape\?/],
    [{ paddng: '0.5' }, /did you mean padding\?/],
    [{ 'max-face': '3' }, /did you mean max-faces\?/],
    [{ minfacsize: '24' }, /did you mean min-face-size\?/],
  ])('%j: InvalidInput naming the metadata field and its range', (metadata, message) => {
    expect(() => uploadRequest(metadata, {})).toThrow(expect.objectContaining({ code: 'InvalidInput', message: expect.stringMatching(message) }));
  });
});

test("sequencers: S3's rule (right-pad with zeros, then compare); none is oldest", () => {
  expect(compareSequencers('0055AED6DCD90281E5', '0055AED6DCD90281E6')).toBeLessThan(0);
  expect(compareSequencers('0055AED6DCD9028200', '0055AED6DCD90281E6')).toBeGreaterThan(0);
  expect(compareSequencers('0055AED6DCD902820', '0055AED6DCD90281E6')).toBeGreaterThan(0);
  expect(compareSequencers('00AB', '00ab0')).toBe(0);
  expect(compareSequencers(undefined, '00')).toBe(0);
  expect(compareSequencers(undefined, '01')).toBeLessThan(0);
});

test('ETags unquoted and receive counts read in one place', () => {
  expect(unquoteETag('"abc"')).toBe('abc');
  expect(unquoteETag(undefined)).toBe('');
  expect(receiveCount({ ApproximateReceiveCount: '3' })).toBe(3);
  expect(receiveCount({ ApproximateReceiveCount: 'x' })).toBe(1);
  expect(receiveCount(undefined)).toBe(1);
});
