/** `npm start` arguments: one input, --keep, and a --kebab-case flag for every request field of the contract. */
import { DETECT_REQUEST } from '../../functions/detect-faces/contract';
import { parseArgs } from '../../local/run';

test('every request field has its flag; numbers go as JSON numbers', () => {
  expect(parseArgs(['photo.jpg', '--min-face-size', '24', '--min-score=0.5', '--max-faces', '10', '--keep'])).toEqual({
    input: 'photo.jpg',
    keep: true,
    options: { minFaceSize: 24, minScore: 0.5, maxFaces: 10 },
  });
  const kebab = (n: string) => `--${n.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`;
  for (const name of Object.keys(DETECT_REQUEST)) expect(Object.keys(parseArgs([kebab(name), '1']).options)).toEqual([name]);
});

test('no input: the sample (decided by the caller); a bad value goes through for the function to name', () => {
  expect(parseArgs([])).toEqual({ input: undefined, keep: undefined, options: {} });
  expect(parseArgs(['--min-face-size', 'big']).options).toEqual({ minFaceSize: 'big' });
});

test.each([
  [['--min-face-size'], /--min-face-size needs a value/],
  [['--sparkle', '1'], /unknown option --sparkle; request options: --min-face-size, --min-score, --max-faces/],
  [['a.jpg', 'b.jpg'], /one image at a time/],
])('%j fails with a clear message', (args, message) => {
  expect(() => parseArgs(args)).toThrow(message);
});
