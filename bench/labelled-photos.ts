/** The labelled development photos in the repository's fixtures (provenance: __tests__/fixtures/README.md), for the bench and the tests. */
import * as fs from 'node:fs';
import * as path from 'node:path';

export const FACES_DIR = path.resolve(__dirname, '..', '__tests__', 'fixtures', 'faces');

export interface LabelledImage {
  file: string;
  boxes: { x: number; y: number; width: number; height: number }[];
}

/** dlib imglab XML: <image file='...'><box top='' left='' width='' height=''/></image>. */
export function readLabels(file = path.join(FACES_DIR, 'training.xml')): LabelledImage[] {
  const xml = fs.readFileSync(file, 'utf8');
  const images: LabelledImage[] = [];
  for (const m of xml.matchAll(/<image\s+file=['"]([^'"]+)['"][^>]*>([\s\S]*?)<\/image>/g)) {
    const boxes = [...m[2].matchAll(/<box\s+([^>]*?)\/?>/g)].map((b) => {
      const attr = (name: string) => Number(new RegExp(`${name}=['"](-?\\d+)['"]`).exec(b[1])![1]);
      return { x: attr('left'), y: attr('top'), width: attr('width'), height: attr('height') };
    });
    images.push({ file: m[1], boxes });
  }
  return images;
}
