/** The fit's writer: what it writes for the fitted tables is calibration.ts as committed, a module that compiles. */
import * as fs from 'node:fs';
import { CALIBRATION } from '../../../functions/detect-faces/detect/calibration';
import { CALIBRATION_FILE, formatCalibration } from '../../../bench/wider/calibration-file';

test('formatting the committed tables gives the committed file back, every kind of look keyed as TypeScript allows (a hyphenated one quoted)', () => {
  const committed = fs.readFileSync(CALIBRATION_FILE, 'utf8');
  const source = /\(fitted on (.+)\); not edited by hand/.exec(committed)?.[1];
  expect(source).toBeDefined();
  expect(formatCalibration(CALIBRATION, source!)).toBe(committed);
  expect(committed).toContain("\n  'cascade-n': {\n");
});
