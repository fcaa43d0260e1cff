/** A direct invocation of detect-faces: the request's fields, and the result or error it answers with. */
import { int, num, oneOf, type ValueOf } from '../../common/schema';
import type { ErrorCode } from '../../common/contract';
import { defaultScoresText } from './operating-points';

/** `box` draws rectangles; the others redact: `fill` (solid, the safe choice), `pixelate`, `blur`. */
export const MARK_MODES = ['box', 'fill', 'pixelate', 'blur'] as const;
export type MarkMode = (typeof MARK_MODES)[number];
/** How a JPEG's output is written: `lossless` in its own DCT coefficients (blocks no mark touches stay as they were), `reencode` from the marked pixels. */
export const OUTPUT_MODES = ['lossless', 'reencode'] as const;
export type OutputMode = (typeof OUTPUT_MODES)[number];
/** What was done (the result's and the stored object's `output`): PNG, WebP and the JPEGs the coefficient path refuses are re-encoded. */
export type OutputWritten = 'lossless' | 'reencoded';
export const REDACT_SHAPES = ['ellipse', 'rect'] as const;
export type RedactShape = (typeof REDACT_SHAPES)[number];
/**
 * What a redaction uses when the request names no shape or padding. 0.4: at 0.25 a pixelated
 * ellipse left head-shaped blobs our own detector scored up to 0.66 at its most sensitive; at 0.4
 * none reaches the precision-first point (0.46 at most), in any mode or shape (docs/redaction.md).
 */
export const REDACTION_DEFAULTS = { shape: 'ellipse', padding: 0.4 } as const satisfies { shape: RedactShape; padding: number };
/** The mark a tool made for redaction starts from (the folder CLI, the web app's page): a solid fill, the safe choice. */
export const SAFE_MARK = 'fill' as const satisfies MarkMode;

/**
 * The lowest `minScore` a setting or request may ask, on the calibrated score (the measured fraction
 * of such detections that are faces): under 0.09, fewer than 1 YuNet detection in 100 is a face
 * (0.008 of the cascade's 38,921 there on WIDER's development subset; `npm run bench:wider`, the
 * reliability curves; docs/detection.md, "Scores and operating points"). It is the recall-first
 * operating point's own value. Haar's scores start at 0.5 (3 neighbours).
 */
export const LOWEST_MIN_SCORE = 0.09;

/** Fields of a request besides `imageUrl`. A new option is one entry here (plus its use). */
export const DETECT_REQUEST = {
  minFaceSize: {
    label: 'smallest face (px)',
    ...int(undefined, 10, 100_000, 'smallest face side to find, pixels of the original image, at most its longer side; default: 2% of the longer side (of at most 16:9 around the shorter one), at least 20; served larger when the time budget requires (the result says what was used)'),
  },
  minScore: { label: 'lowest score', ...num(undefined, LOWEST_MIN_SCORE, 1, `lowest score of a reported face (the measured fraction of such detections that are faces); default: the MIN_SCORE setting, else the mark's (YuNet: ${defaultScoresText()}; Haar: every hit)`) },
  maxFaces: { label: 'at most N faces', ...int(1000, 1, 1000, 'keep the N largest faces') },
  mark: { label: 'mark', ...oneOf(MARK_MODES, 'box', 'how faces are marked: `box` draws rectangles; `fill`, `pixelate` and `blur` redact them (strength scales with the face)') },
  shape: { label: 'shape', ...oneOf(REDACT_SHAPES, undefined, `shape of a redaction (not with \`box\`); default \`${REDACTION_DEFAULTS.shape}\``) },
  padding: { label: 'padding', ...num(undefined, 0, 1, `fraction of the face box added on each side of a redaction (not with \`box\`); default ${REDACTION_DEFAULTS.padding}`) },
  output: {
    label: 'output',
    ...oneOf(OUTPUT_MODES, 'lossless', 'how a JPEG is written: `lossless` keeps every block no mark touches bit for bit (in the JPEG\'s own DCT coefficients); `reencode` encodes the marked pixels anew. PNG, WebP, CMYK and arithmetic-coded JPEGs are re-encoded; the result\'s `output` says which was done'),
  },
} as const;

export type DetectRequestOptions = { -readonly [K in keyof typeof DETECT_REQUEST]?: Exclude<ValueOf<(typeof DETECT_REQUEST)[K]>, undefined> };

export interface DetectEvent extends DetectRequestOptions {
  /** http(s) URL of a JPEG, PNG or WebP image. */
  readonly imageUrl: string;
}

export interface Point {
  readonly x: number;
  readonly y: number;
}

/**
 * Five facial points, named as Rekognition names them; left and right as seen in the image
 * (`eyeLeft` is the eye on the image's left, the person's right eye), as Rekognition's own
 * coordinates place them. Whole original-image pixels, within the image.
 */
export interface Landmarks {
  readonly eyeLeft: Point;
  readonly eyeRight: Point;
  readonly nose: Point;
  readonly mouthLeft: Point;
  readonly mouthRight: Point;
}
export const LANDMARK_NAMES = ['eyeLeft', 'eyeRight', 'nose', 'mouthLeft', 'mouthRight'] as const satisfies readonly (keyof Landmarks)[];

export interface FaceBox {
  readonly x: number;
  readonly y: number;
  readonly width: number;
  readonly height: number;
  readonly score: number;
  /** YuNet only (Haar finds no landmarks: the field is absent). */
  readonly landmarks?: Landmarks;
}

export interface DetectResult {
  faces: number;
  outputUrl: string;
  /** Original-image pixels, strongest score first; when `maxFaces` cut the list, the largest faces are the ones kept. */
  boxes: FaceBox[];
  width: number;
  height: number;
  /** The smallest face size searched for (original pixels): the request's, the default, or larger when the budget required. */
  minFaceSize: number;
  /** How the faces were marked (also recorded on the stored object as metadata `mark`). */
  mark: MarkMode;
  /** How the output was written (also stored as metadata `output`): `lossless` in the source's coefficients, or `reencoded`. */
  output: OutputWritten;
}

/** The body of a failed invocation (Lambda builds it from the error's name and message). */
export interface DetectError {
  errorType: ErrorCode;
  errorMessage: string;
}
