import { parseRequest } from '../../../functions/detect-faces/request';

test('a plain http(s) URL is accepted', () => {
  expect(parseRequest({ imageUrl: 'https://example.com/a.jpg?x=1' }).imageUrl.href).toBe('https://example.com/a.jpg?x=1');
  expect(parseRequest({ imageUrl: '  http://example.com/a.png ' }).imageUrl.hostname).toBe('example.com');
  expect(parseRequest('{"imageUrl":"https://example.com/a.jpg"}').imageUrl.pathname).toBe('/a.jpg');
});

test.each([
  [null, /JSON object/],
  [42, /JSON object/],
  [[], /JSON object/],
  ['not json', /JSON object/],
  // A payload sent as a JSON string keeps the specific error of what it holds.
  ['{"imageUrl":"file:///etc/passwd"}', /^imageUrl must use http or https, not file$/],
  ['{"imageUrl":"https://example.com/a.jpg","minFaceSize":9}', /^minFaceSize must be a whole number from 10 to 100000, got 9$/],
  ['{}', /^imageUrl is required/],
  [{}, /imageUrl is required/],
  [{ imageUrl: '' }, /imageUrl is required/],
  [{ imageUrl: 7 }, /must be a string, got number/],
  [{ imageUrl: ['https://a'] }, /must be a string, got array/],
  [{ imageUrl: 'example.com/a.jpg' }, /not a valid absolute URL/],
  [{ imageUrl: 'file:///etc/passwd' }, /http or https, not file/],
  [{ imageUrl: 'ftp://example.com/a.jpg' }, /not ftp/],
  [{ imageUrl: 'gopher://example.com/' }, /not gopher/],
  [{ imageUrl: 'data:image/png;base64,AAAA' }, /not data/],
  [{ imageUrl: 'https://user:pw@example.com/a.jpg' }, /user name or password/],
  [{ imageUrl: `https://example.com/${'a'.repeat(3000)}` }, /longer than 2048/],
  // A misspelt option is refused, not ignored: ignored, "Mark" would leave every face unredacted.
  [{ imageUrl: 'https://example.com/a.jpg', Mark: 'fill' }, /^unknown field "Mark" \(did you mean mark\?\); a request has imageUrl, minFaceSize, .*mark/],
  [{ imageUrl: 'https://example.com/a.jpg', min_face_size: 24 }, /^unknown field "min_face_size" \(did you mean minFaceSize\?\)/],
  [{ imageUrl: 'https://example.com/a.jpg', mrak: 'fill' }, /^unknown field "mrak" \(did you mean mark\?\)/],
  [{ imageUrl: 'https://example.com/a.jpg', imageURI: 'x' }, /^unknown field "imageURI" \(did you mean imageUrl\?\)/],
  [{ imageUrl: 'https://example.com/a.jpg', colour: 'red' }, /^unknown field "colour"; a request has /],
  [{ imageUrl: 'https://example.com/a.jpg', redact: true }, /^unknown field "redact"; a request has imageUrl, /],
  ['{"imageUrl":"https://example.com/a.jpg","mark":"fill","blurr":1}', /^unknown field "blurr"; /],
])('%j is refused with InvalidInput', (event, message) => {
  expect(() => parseRequest(event)).toThrow(expect.objectContaining({ code: 'InvalidInput', message: expect.stringMatching(message) }));
});

describe('options from the contract', () => {
  const url = 'https://example.com/a.jpg';
  test('absent options stay absent (defaults are the detector\'s and the settings\'), given ones are kept', () => {
    expect(parseRequest({ imageUrl: url })).toEqual({ imageUrl: new URL(url), maxFaces: 1000, mark: 'box', output: 'lossless' });
    expect(parseRequest({ imageUrl: url, output: 'reencode' })).toMatchObject({ output: 'reencode' });
    expect(parseRequest({ imageUrl: url, minFaceSize: 24, minScore: 0.5, maxFaces: 100 })).toMatchObject({ minFaceSize: 24, minScore: 0.5, maxFaces: 100 });
    expect(parseRequest({ imageUrl: url, mark: 'pixelate', shape: 'rect', padding: 0 })).toMatchObject({ mark: 'pixelate', shape: 'rect', padding: 0 });
    expect(parseRequest({ imageUrl: url, mark: 'fill', padding: 1 })).toMatchObject({ mark: 'fill', padding: 1 });
  });

  test.each([
    [{ minFaceSize: 9 }, /^minFaceSize must be a whole number from 10 to 100000, got 9$/],
    [{ minFaceSize: 24.5 }, /^minFaceSize must be a whole number/],
    [{ minFaceSize: '24' }, /^minFaceSize must be a whole number from 10 to 100000, got "24"$/],
    [{ minFaceSize: 'big' }, /^minFaceSize must be/],
    [{ minScore: 0 }, /^minScore must be a number from 0.09 to 1, got 0$/],
    // Under 0.09 fewer than 1 detection in 100 is a face (contract LOWEST_MIN_SCORE).
    [{ minScore: 0.05 }, /^minScore must be a number from 0.09 to 1, got 0.05$/],
    [{ minScore: 1.5 }, /^minScore must be a number from 0.09 to 1/],
    [{ maxFaces: 0 }, /^maxFaces must be a whole number from 1 to 1000, got 0$/],
    [{ maxFaces: 5000 }, /^maxFaces must be a whole number from 1 to 1000/],
    [{ maxFaces: true }, /^maxFaces must be a whole number/],
    [{ mark: 'sparkle' }, /^mark must be one of box, fill, pixelate, blur, got "sparkle"$/],
    [{ mark: 1 }, /^mark must be one of/],
    [{ shape: 'circle' }, /^shape must be one of ellipse, rect, got "circle"$/],
    [{ padding: -1 }, /^padding must be a number from 0 to 1, got -1$/],
    [{ padding: 1.01 }, /^padding must be a number from 0 to 1/],
    [{ shape: '' }, /^shape must be one of ellipse, rect, got ""$/],
    [{ mark: '' }, /^mark must be one of box, fill, pixelate, blur, got ""$/],
    [{ output: 'reencoded' }, /^output must be one of lossless, reencode, got "reencoded"$/],
  ])('%j: InvalidInput naming the field and its range', (options, message) => {
    expect(() => parseRequest({ imageUrl: url, ...options })).toThrow(expect.objectContaining({ code: 'InvalidInput', message: expect.stringMatching(message) }));
  });
});

test('a megabyte-long unknown field is refused at once, and the message quotes 80 characters of it, as of any value', () => {
  const long = 'a'.repeat(1 << 20);
  const started = performance.now();
  expect(() => parseRequest({ imageUrl: 'https://example.com/a.jpg', [long]: 1 })).toThrow(expect.objectContaining({ code: 'InvalidInput', message: expect.stringMatching(/^unknown field "a{78}…; a request has /) }));
  // The edit-distance table was 1 MB x each name's length: seconds and gigabytes.
  expect(performance.now() - started).toBeLessThan(500);
  expect(() => parseRequest({ imageUrl: 'https://example.com/a.jpg', shape: long })).toThrow(expect.objectContaining({ message: expect.stringMatching(/got "a{78}…$/) }));
  // JSON has no Infinity: 1e400 parses to it, and is shown as itself, not as null.
  expect(() => parseRequest('{"imageUrl":"https://example.com/a.jpg","minFaceSize":1e400}')).toThrow(expect.objectContaining({ message: expect.stringMatching(/got Infinity$/) }));
});
