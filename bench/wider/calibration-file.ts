/** Where the fitted calibration lives, its grid, and how the fit writes it (as TypeScript, so the function bundle carries it). */
import * as path from 'node:path';
import type { CalibrationTable, LookCalibration } from '../../functions/detect-faces/detect/score';
import { LOOK_AGREEMENTS } from '../../functions/detect-faces/detect/flip';
import { LOOKS, type Looks } from '../../functions/detect-faces/contract';

export const CALIBRATION_FILE = path.join(__dirname, '..', '..', 'functions', 'detect-faces', 'detect', 'calibration.ts');

/**
 * Rows: face widths at the network's input, 8 px (YuNet's smallest reach) to 256 (its largest
 * stride's comfortable range), about a factor of 1.5 apart. Columns: raw scores from the decoding
 * floor (0.05) to 1 in steps of 0.05.
 */
export const CALIBRATION_GRID = {
  widths: [8, 12, 16, 24, 32, 48, 64, 96, 128, 192, 256],
  raws: Array.from({ length: 20 }, (_, i) => Math.round((i + 1) * 5) / 100),
} as const;

function tableText(t: CalibrationTable): string {
  const list = (xs: readonly number[]) => `[${xs.join(', ')}]`;
  return ['{', `      widths: ${list(t.widths)},`, `      raws: ${list(t.raws)},`, '      scores: [', ...t.scores.map((row, r) => `        ${list(row)}, // ${t.widths[r]} px`), '      ],', '    }'].join('\n');
}

/** calibration.ts's text for `tables` (each kind of look's table per agreement, LOOK_AGREEMENTS), fitted on `source`. */
export function formatCalibration(tables: Readonly<Record<Looks, LookCalibration>>, source: string): string {
  const lookText = (looks: Looks) => {
    const each = LOOK_AGREEMENTS[looks].map((agreement) => {
      const table = tables[looks][agreement];
      if (!table) throw new Error(`formatCalibration: no ${looks} table for '${agreement}'`);
      return `    ${agreement}: ${tableText(table)},`;
    });
    // A key that is not an identifier ('cascade-n') is quoted.
    return [`  ${/^[A-Za-z_$][\w$]*$/.test(looks) ? looks : `'${looks}'`}: {`, ...each, '  },'].join('\n');
  };
  return `/**
 * The score calibration (score.ts): for each kind of look, a table per agreement of its looks
 * (flip.ts); rows by face width at the network's input, columns by raw score, each cell the
 * measured fraction of such detections that matched a labelled face.
 * Written by \`npm run bench:wider -- DIR --fit\` (fitted on ${source}); not edited by hand.
 */
import type { LookCalibration } from './score';
import type { Looks } from '../contract';

export const CALIBRATION: Readonly<Record<Looks, LookCalibration>> = {
${LOOKS.map(lookText).join('\n')}
};
`;
}
