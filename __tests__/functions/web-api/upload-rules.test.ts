/** The upload path's rules as this API uses them: where results and outputs are, options as metadata. */
import { refuseShapeWithBox } from '../../../functions/detect-faces/request';
import { uploadRequest } from '../../../functions/detect-faces/uploads/request';
import { metadataName, optionsToMetadata, outputKeyOf, resultKeyOf } from '../../../functions/web-api/upload-rules';

const P = { inputPrefix: 'inputs/', resultPrefix: 'results/', outputPrefix: 'outputs/' };

test('result record and output of an input key (the upload path\'s one key rule)', () => {
  expect(resultKeyOf('inputs/u/a.jpg', P)).toBe('results/u/a.jpg.json');
  expect(outputKeyOf('inputs/u/a.jpg', P)).toBe('outputs/u/a.jpg');
  expect(outputKeyOf('inputs/u/a.png', P)).toBe('outputs/u/a.png.jpg');
  expect(outputKeyOf('inputs/u/a.webp', P)).toBe('outputs/u/a.webp.jpg');
  expect(() => resultKeyOf('elsewhere/a.jpg', P)).toThrow(/is not an upload under inputs\//);
});

test('metadata names are the CLI flags\' names', () => {
  expect(['minFaceSize', 'minScore', 'maxFaces', 'mark', 'shape', 'padding'].map(metadataName)).toEqual(['min-face-size', 'min-score', 'max-faces', 'mark', 'shape', 'padding']);
});

test('options become metadata, values as text; none gives none', () => {
  expect(optionsToMetadata({ mark: 'fill', padding: 0.5, minFaceSize: 24, shape: 'rect', minScore: 0.6, maxFaces: 3 })).toEqual({
    mark: 'fill',
    padding: '0.5',
    'min-face-size': '24',
    shape: 'rect',
    'min-score': '0.6',
    'max-faces': '3',
  });
  expect(optionsToMetadata(undefined)).toEqual({});
  expect(optionsToMetadata({})).toEqual({});
});

test.each([
  [{ mark: 'sparkle' }, /^options\.mark must be one of box, fill, pixelate, blur, got "sparkle"$/],
  [{ minFaceSize: 5 }, /^options\.minFaceSize must be a whole number from 10/],
  [{ minFaceSize: '24' }, /^options\.minFaceSize must be a whole number/],
  [{ padding: 2 }, /^options\.padding must be a number from 0 to 1/],
  [{ shape: '' }, /^options\.shape must be one of ellipse, rect/],
  [{ sparkle: 1 }, /^unknown option sparkle; the options are minFaceSize, minScore, maxFaces, mark, shape, padding, output$/],
  ['fill', /^options must be an object/],
  [['fill'], /^options must be an object/],
])('%j is refused as InvalidInput, naming the field and its range', (options, message) => {
  expect(() => optionsToMetadata(options)).toThrow(expect.objectContaining({ code: 'InvalidInput', message: expect.stringMatching(message) }));
});

test('what the API writes as metadata, the upload path reads back as the same options', () => {
  const options = { mark: 'fill', padding: 0.5, minFaceSize: 24, shape: 'rect', minScore: 0.6, maxFaces: 3 } as const;
  expect(uploadRequest(optionsToMetadata(options), {})).toEqual(options);
  expect(uploadRequest(optionsToMetadata({ padding: 0.25 }, 'fill'), { mark: 'fill' })).toEqual({ mark: 'fill', padding: 0.25 });
});

test('shape or padding without a mark is refused at the door where uploads default to box (the upload would fail once sent), taken where they default to a redaction', () => {
  const refused = expect.objectContaining({ code: 'InvalidInput', message: expect.stringMatching(/^shape applies only to a redaction: set mark to fill, pixelate or blur/) });
  expect(() => optionsToMetadata({ shape: 'ellipse' })).toThrow(refused);
  expect(() => optionsToMetadata({ shape: 'ellipse' }, 'box')).toThrow(refused);
  expect(optionsToMetadata({ shape: 'ellipse' }, 'pixelate')).toEqual({ shape: 'ellipse' });
  // The upload's own mark decides over the deployment's.
  expect(optionsToMetadata({ mark: 'blur', padding: 0.5 }, 'box')).toEqual({ mark: 'blur', padding: '0.5' });
  expect(() => optionsToMetadata({ mark: 'box', padding: 0.5 }, 'fill')).toThrow(expect.objectContaining({ message: expect.stringMatching(/^padding applies only to a redaction/) }));
  // What the door takes, the upload path runs without a refusal.
  for (const [options, uploadMark] of [[{ shape: 'rect' }, 'fill'], [{ mark: 'fill', shape: 'rect' }, undefined]] as const) {
    expect(() => refuseShapeWithBox(uploadRequest(optionsToMetadata(options, uploadMark), uploadMark ? { mark: uploadMark } : {}))).not.toThrow();
  }
});
