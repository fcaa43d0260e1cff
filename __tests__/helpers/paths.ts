/** Where tests find the project and their fixtures: relative to this file, never the working directory. */
import * as path from 'node:path';

export const PROJECT_ROOT = path.resolve(__dirname, '..', '..');
export const FIXTURES_DIR = path.join(PROJECT_ROOT, '__tests__', 'fixtures');
/** Labelled development photos (see fixtures/README.md for provenance and licences). */
export { FACES_DIR } from '../../bench/labelled-photos';

export function fromRoot(...parts: string[]): string {
  return path.join(PROJECT_ROOT, ...parts);
}
