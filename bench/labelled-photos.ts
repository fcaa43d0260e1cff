/** The labelled development photos in the repository's fixtures (provenance: __tests__/fixtures/README.md), for the bench and the tests. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { parseImglab, type LabelledImage } from '../layer/rules/checks';

export const FACES_DIR = path.resolve(__dirname, '..', '__tests__', 'fixtures', 'faces');

export type { LabelledImage };

/** The labelled photos of a training.xml (the fixtures' by default). */
export function readLabels(file = path.join(FACES_DIR, 'training.xml')): LabelledImage[] {
  return parseImglab(fs.readFileSync(file, 'utf8'));
}
