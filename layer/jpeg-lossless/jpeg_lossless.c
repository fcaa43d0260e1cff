/*
 * jpeg-lossless: edits a JPEG in its own quantized DCT coefficients, so that every 8x8 block no
 * edit touches is written back exactly as it was (libjpeg's jpeg_read_coefficients /
 * jpeg_write_coefficients, the API jpegtran is built on). Ours because no npm package exposes that
 * API (docs/lossless-jpeg.md). A Node-API addon in C: one ABI-stable binary per architecture.
 *
 * JavaScript side (functions/detect-faces/output/lossless.ts):
 *   open(bytes[, level, orientation, pixels]) -> handle; with a level (1-3), an EXIF orientation
 *                             (1-8) and a Buffer of ceil(width / 2^level) x ceil(height / 2^level)
 *                             x 3 bytes, detection's reduced image is written into `pixels` while
 *                             the coefficients are read: the photo at 1/2^level as BGR, as the
 *                             viewer sees it, what libjpeg's scaled decode gives ("Detection's
 *                             reduced image"); throws Error with code
 *                             ERR_JPEG_UNSUPPORTED (the caller re-encodes instead) for anything
 *                             but 8-bit Huffman-coded grayscale or YCbCr, or when libjpeg reports
 *                             an error or a warning
 *   info(handle)           -> { width, height, components, mcuWidth, mcuHeight, progressive, restartInterval }
 *   read(handle, x, y, w, h) -> { x, y, width, height, pixels }: the rectangle grown to whole MCUs
 *                             (clipped to the image), decoded to BGR from the current coefficients
 *   write(handle, x, y, w, h, pixels) -> blocks rewritten: the rectangle the last `read`
 *                             returned; only blocks whose pixels differ from what it returned
 *                             are recomputed (forward DCT, quantized with the file's own tables)
 *   fill(handle, x, y, w, h, mask, b, g, r) -> blocks rewritten: the rectangle's pixels take one
 *                             BGR colour by `mask` (w x h bytes, each the colour's opacity there,
 *                             0-255, e.g. an anti-aliased line's; 'ellipse': the ellipse inscribed
 *                             in the rectangle wholly; null: every pixel wholly; the rectangle
 *                             inside the image)
 *   pixelate(handle, x, y, w, h, mask, cellWidth, cellHeight) -> blocks rewritten: the same pixels
 *                             (by the same mask) take their cell's mean, cells of whole MCUs from the corner of the
 *                             rectangle grown to whole MCUs, each cell's mean from its blocks' DCs
 *   blur(handle, x, y, w, h, mask, sigma) -> blocks rewritten: the same pixels take the rectangle's
 *                             block means (the grown rectangle's) blurred by about a Gaussian of
 *                             sigma pixels (three box passes), linear between block centres
 *   box(handle, x, y, w, h, thickness, b, g, r) -> blocks rewritten: the rectangle's outline
 *                             stroked `thickness` wide in one BGR colour, anti-aliased (box_mask)
 *                             These four paint (paint_region): only the blocks on the mask's
 *                             edge are decoded and recomputed, in the file's own samples (no trip
 *                             through 8-bit BGR); a block it covers wholly gets its coefficients
 *                             straight from the paint (a constant's DC; the blur's mean and slope);
 *                             one it misses is not read
 *   save(handle)           -> Buffer: the JPEG, every other block's coefficients unchanged;
 *                             the restart interval is kept; a baseline file keeps its own
 *                             Huffman tables when they code every symbol (the standard tables
 *                             do), and a file of one scan whose tables are optimised for it keeps
 *                             them extended by what the changed blocks and the blocks past the
 *                             image's edge (written as libjpeg's dummies) need (extend_table): one
 *                             pass, about its size; other baseline files get tables optimised
 *                             anew; progressive stays progressive, in the shortest progression;
 *                             no APPn or COM segments but JFIF (metadata.ts adds what is kept)
 *   close(handle)          -> frees the coefficients (the GC does it too)
 *   interface              -> 2: the version of these calls (output/lossless.ts refuses another)
 *
 * Pixels inside touched blocks are decoded with a float IDCT and box (replicating) chroma
 * upsampling, so a touched block's unchanged pixels come back within JPEG rounding; a chroma block
 * averages its pixels again, so box up- then down-sampling is the identity there.
 */
#include <malloc.h>
#include <math.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h>
#include <jerror.h>
#include <node_api.h>

typedef struct {
  struct jpeg_error_mgr pub;
  jmp_buf jump;
  char message[JMSG_LENGTH_MAX];
  int warnings;
} ErrorManager;

typedef struct {
  int x0, y0, x1, y1; /* pixels, MCU-aligned except where clipped to the image */
} Region;

/* Four lanes of GCC's portable vector extension (SSE2 on x86_64, NEON on arm64): the DCT's passes. */
typedef float f4 __attribute__((vector_size(16)));
typedef int32_t i4 __attribute__((vector_size(16)));
typedef int16_t s4 __attribute__((vector_size(8)));
typedef int16_t s8 __attribute__((vector_size(16)));
typedef uint16_t u16x8 __attribute__((vector_size(16)));
typedef uint8_t u8x8 __attribute__((vector_size(8)));
typedef float f8 __attribute__((vector_size(32))); /* two f4 */
#define INLINE static inline __attribute__((always_inline))

/* A component's quantization table with the transforms' factors folded in, once per file (init_quant). */
typedef struct {
  const UINT16 *q;
  double dequant[64]; /* coefficient -> the inverse transform's input: q[k] * inverse_scale[k] */
  union {
    f4 v[16];
    float s[64];
  } dequant4, requant; /* the same in single precision; the forward transform's output -> coefficient: forward_scale[k] / q[k] */
} Quant;

typedef struct {
  struct jpeg_decompress_struct src;
  ErrorManager err;
  jvirt_barray_ptr *coefs;
  size_t size; /* the input's bytes: save's first guess at the output's */
  int open;
  int mcu_w, mcu_h;
  int mcus_x, mcus_y;     /* the MCU grid */
  unsigned char *changed; /* per MCU (mcus_x x mcus_y): how an edit rewrote its blocks, if it did (note_changed; save's table choice) */
  /* The pixels the last read() returned, as decoded: write() compares against them. */
  Region last;
  unsigned char *last_pixels;
  Quant quant[3]; /* per component (grayscale or YCbCr) */
  unsigned char *red_row; /* open()'s scratch rows for the reduced image (reduced_rows) */
} Handle;

static void on_error(j_common_ptr cinfo) {
  ErrorManager *err = (ErrorManager *)cinfo->err;
  (*cinfo->err->format_message)(cinfo, err->message);
  longjmp(err->jump, 1);
}

static void on_message(j_common_ptr cinfo, int level) {
  ErrorManager *err = (ErrorManager *)cinfo->err;
  if (level < 0) {
    /* A warning (e.g. corrupt data libjpeg skipped over): remember the first. */
    if (err->warnings++ == 0) (*cinfo->err->format_message)(cinfo, err->message);
  }
}

static void install_errors(ErrorManager *err) {
  jpeg_std_error(&err->pub);
  err->pub.error_exit = on_error;
  err->pub.emit_message = on_message;
  err->message[0] = 0;
  err->warnings = 0;
}

/*
 * ---- DCT: the orthonormal 8-point basis T[x][u] = C(u)/2 cos((2x+1) u pi / 16), computed with
 * Arai, Agui and Nakajima's factorisation (5 multiplications per 1-D forward transform, 5 for the
 * inverse, against 32 for the plain sums). Each factorised transform equals the basis up to one
 * factor per frequency, which init_basis measures by running it on unit vectors (so the constants
 * below need no hand-derived scale) and the 2-D transforms fold into a 64-entry table. The lines
 * below (doubles) are what init_basis measures; blocks go through the same factorisation four lines
 * at a time in single precision (fdct_vec, idct_vec): 12 MP, 40 filled faces, the addon's fill
 * 17 -> 11.5 ms with the vector passes and quantizing (load 1.7-2.5).
 */
static double inverse_scale[64], forward_scale[64]; /* [v * 8 + u] */
/* Coefficient u (and v) of a block whose samples are x - 3.5 along its rows (y - 3.5 down its columns). */
static double ramp_coef[8];

/* 8 samples -> 8 coefficients, coefficient u scaled by forward factor u. */
static void fdct_line(const double *d, int st, double *o, int ost) {
  double t0 = d[0] + d[7 * st], t7 = d[0] - d[7 * st], t1 = d[st] + d[6 * st], t6 = d[st] - d[6 * st];
  double t2 = d[2 * st] + d[5 * st], t5 = d[2 * st] - d[5 * st], t3 = d[3 * st] + d[4 * st], t4 = d[3 * st] - d[4 * st];
  double t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;
  o[0] = t10 + t11;
  o[4 * ost] = t10 - t11;
  double z1 = (t12 + t13) * 0.707106781186547524;
  o[2 * ost] = t13 + z1;
  o[6 * ost] = t13 - z1;
  t10 = t4 + t5;
  t11 = t5 + t6;
  t12 = t6 + t7;
  double z5 = (t10 - t12) * 0.382683432365089772;
  double z2 = 0.541196100146196984 * t10 + z5, z4 = 1.306562964876376527 * t12 + z5, z3 = t11 * 0.707106781186547524;
  double z11 = t7 + z3, z13 = t7 - z3;
  o[5 * ost] = z13 + z2;
  o[3 * ost] = z13 - z2;
  o[ost] = z11 + z4;
  o[7 * ost] = z11 - z4;
}

/* 8 coefficients, coefficient u pre-divided by inverse factor u -> 8 samples. A line whose AC
 * coefficients are all zero (most, in a quantized block) is a constant. */
static void idct_line(const double *in, int st, double *o, int ost) {
  int ac = 0;
  for (int u = 1; u < 8 && !ac; u++) ac = in[u * st] != 0;
  if (!ac) {
    for (int x = 0; x < 8; x++) o[x * ost] = in[0];
    return;
  }
  double t0 = in[0], t1 = in[2 * st], t2 = in[4 * st], t3 = in[6 * st];
  double t10 = t0 + t2, t11 = t0 - t2, t13 = t1 + t3, t12 = (t1 - t3) * 1.414213562373095049 - t13;
  t0 = t10 + t13;
  t3 = t10 - t13;
  t1 = t11 + t12;
  t2 = t11 - t12;
  double t4 = in[st], t5 = in[3 * st], t6 = in[5 * st], t7 = in[7 * st];
  double z13 = t6 + t5, z10 = t6 - t5, z11 = t4 + t7, z12 = t4 - t7;
  t7 = z11 + z13;
  t11 = (z11 - z13) * 1.414213562373095049;
  double z5 = (z10 + z12) * 1.847759065022573512;
  t10 = 1.082392200292393968 * z12 - z5;
  t12 = -2.613125929752753055 * z10 + z5;
  t6 = t12 - t7;
  t5 = t11 - t6;
  t4 = t10 + t5;
  o[0] = t0 + t7;
  o[7 * ost] = t0 - t7;
  o[ost] = t1 + t6;
  o[6 * ost] = t1 - t6;
  o[2 * ost] = t2 + t5;
  o[5 * ost] = t2 - t5;
  o[4 * ost] = t3 + t4;
  o[3 * ost] = t3 - t4;
}

static void init_basis(void) {
  double T[8][8], inverse[8], forward[8], unit[8], line[8];
  for (int x = 0; x < 8; x++)
    for (int u = 0; u < 8; u++) T[x][u] = (u == 0 ? sqrt(0.5) : 1.0) * 0.5 * cos((2 * x + 1) * u * M_PI / 16.0);
  for (int u = 0; u < 8; u++) {
    /* Inverse: unit coefficient u gives its basis vector times inverse[u]. */
    memset(unit, 0, sizeof unit);
    unit[u] = 1;
    idct_line(unit, 1, line, 1);
    inverse[u] = line[0] / T[0][u];
    /* Forward: sample 0 alone gives coefficient u as forward[u] x T[0][u]. */
    memset(unit, 0, sizeof unit);
    unit[0] = 1;
    fdct_line(unit, 1, line, 1);
    forward[u] = line[u] / T[0][u];
  }
  /* A unit ramp along the rows, constant down the columns: column sum of T[.][0] times the row's coefficient u. */
  double column = 0;
  for (int y = 0; y < 8; y++) column += T[y][0];
  for (int u = 0; u < 8; u++) {
    ramp_coef[u] = 0;
    for (int x = 0; x < 8; x++) ramp_coef[u] += column * T[x][u] * (x - 3.5);
  }
  for (int v = 0; v < 8; v++)
    for (int u = 0; u < 8; u++) {
      inverse_scale[v * 8 + u] = 1.0 / (inverse[u] * inverse[v]);
      forward_scale[v * 8 + u] = 1.0 / (forward[u] * forward[v]);
    }
}

/*
 * The same transforms on four lines at once (f4, single precision): a block is 8 rows of two 4-wide halves, one pass transforms every
 * column down the rows, a transpose turns the rows into columns for the second pass. The result is
 * left transposed and read back transposed by the scalar (de)quantizing loops.
 */

INLINE void fdct_vec(const f4 *d, f4 *o) {
  f4 t0 = d[0] + d[7], t7 = d[0] - d[7], t1 = d[1] + d[6], t6 = d[1] - d[6];
  f4 t2 = d[2] + d[5], t5 = d[2] - d[5], t3 = d[3] + d[4], t4 = d[3] - d[4];
  f4 t10 = t0 + t3, t13 = t0 - t3, t11 = t1 + t2, t12 = t1 - t2;
  o[0] = t10 + t11;
  o[4] = t10 - t11;
  f4 z1 = (t12 + t13) * 0.707106781f;
  o[2] = t13 + z1;
  o[6] = t13 - z1;
  t10 = t4 + t5;
  t11 = t5 + t6;
  t12 = t6 + t7;
  f4 z5 = (t10 - t12) * 0.382683433f;
  f4 z2 = 0.541196100f * t10 + z5, z4 = 1.306562965f * t12 + z5, z3 = t11 * 0.707106781f;
  f4 z11 = t7 + z3, z13 = t7 - z3;
  o[5] = z13 + z2;
  o[3] = z13 - z2;
  o[1] = z11 + z4;
  o[7] = z11 - z4;
}

INLINE void idct_vec(const f4 *in, f4 *o) {
  f4 t0 = in[0], t1 = in[2], t2 = in[4], t3 = in[6];
  f4 t10 = t0 + t2, t11 = t0 - t2, t13 = t1 + t3, t12 = (t1 - t3) * 1.414213562f - t13;
  t0 = t10 + t13;
  t3 = t10 - t13;
  t1 = t11 + t12;
  t2 = t11 - t12;
  f4 t4 = in[1], t5 = in[3], t6 = in[5], t7 = in[7];
  f4 z13 = t6 + t5, z10 = t6 - t5, z11 = t4 + t7, z12 = t4 - t7;
  t7 = z11 + z13;
  t11 = (z11 - z13) * 1.414213562f;
  f4 z5 = (z10 + z12) * 1.847759065f;
  t10 = 1.082392200f * z12 - z5;
  t12 = -2.613125930f * z10 + z5;
  t6 = t12 - t7;
  t5 = t11 - t6;
  t4 = t10 + t5;
  o[0] = t0 + t7;
  o[7] = t0 - t7;
  o[1] = t1 + t6;
  o[6] = t1 - t6;
  o[2] = t2 + t5;
  o[5] = t2 - t5;
  o[4] = t3 + t4;
  o[3] = t3 - t4;
}

/* A block as 8 rows of two halves: v[2 * row + half]. */
typedef union {
  f4 v[16];
  float s[64];
} Block4;

/* One pass down the columns of both halves (each half's 8 rows are every other vector). */
#define PASS(line, in, out)                                             \
  do {                                                                  \
    f4 d_[8], o_[8];                                                    \
    for (int half = 0; half < 2; half++) {                              \
      for (int r = 0; r < 8; r++) d_[r] = (in)->v[2 * r + half];        \
      line(d_, o_);                                                     \
      for (int r = 0; r < 8; r++) (out)->v[2 * r + half] = o_[r];       \
    }                                                                   \
  } while (0)

/* The 8 x 8 transpose as four 4 x 4 ones in registers (quadrant (R, H) goes to (H, R)). */
INLINE void transpose(const Block4 *in, Block4 *out) {
  const i4 lo = {0, 4, 1, 5}, hi = {2, 6, 3, 7}, first = {0, 1, 4, 5}, second = {2, 3, 6, 7};
  for (int R = 0; R < 2; R++)
    for (int H = 0; H < 2; H++) {
      f4 a = in->v[2 * (4 * R) + H], b = in->v[2 * (4 * R + 1) + H], c = in->v[2 * (4 * R + 2) + H], d = in->v[2 * (4 * R + 3) + H];
      f4 t0 = __builtin_shuffle(a, b, lo), t1 = __builtin_shuffle(a, b, hi), t2 = __builtin_shuffle(c, d, lo), t3 = __builtin_shuffle(c, d, hi);
      out->v[2 * (4 * H) + R] = __builtin_shuffle(t0, t2, first);
      out->v[2 * (4 * H + 1) + R] = __builtin_shuffle(t0, t2, second);
      out->v[2 * (4 * H + 2) + R] = __builtin_shuffle(t1, t3, first);
      out->v[2 * (4 * H + 3) + R] = __builtin_shuffle(t1, t3, second);
    }
}

static void init_quant(Quant *t, const UINT16 *q) {
  t->q = q;
  for (int k = 0; k < 64; k++) {
    t->dequant[k] = q[k] * inverse_scale[k];
    t->dequant4.s[k] = (float)t->dequant[k];
    t->requant.s[k] = (float)(forward_scale[k] / q[k]);
  }
}

/* Coefficients (natural order, quantized) -> 64 samples, level-shifted back, not rounded, transposed: out->s[x * 8 + y]. */
static void idct_t(const JCOEF *in, const Quant *t, Block4 *out) {
  Block4 f, a;
  for (int i = 0; i < 16; i++) {
    s4 c;
    memcpy(&c, in + 4 * i, sizeof c);
    f.v[i] = __builtin_convertvector(__builtin_convertvector(c, i4), f4) * t->dequant4.v[i];
  }
  PASS(idct_vec, &f, &a); /* down each column: a[y][u] */
  transpose(&a, &f);      /* f[u][y] */
  PASS(idct_vec, &f, out); /* out[x][y] */
  const f4 level = {128.0f, 128.0f, 128.0f, 128.0f};
  for (int i = 0; i < 16; i++) out->v[i] += level;
}

/* The same, in natural order: out[y * 8 + x]. */
static void idct(const JCOEF *in, const Quant *t, double *out) {
  Block4 a;
  idct_t(in, t, &a);
  for (int y = 0; y < 8; y++)
    for (int x = 0; x < 8; x++) out[y * 8 + x] = a.s[x * 8 + y];
}

/* What an 8-bit JPEG's Huffman codes can carry: an AC coefficient of up to 10 bits (category 10);
 * a DC kept as small, so that its difference from any in-range neighbour fits 11. libjpeg-turbo's
 * encoder writes a corrupt code past them without an error (a file's odd quantizers, 1s with a
 * 65, made an edit's edge block overshoot). */
#define MAX_COEF 1023

/* A quantized coefficient: rounded half away from zero (casts truncate: no call to floor), within MAX_COEF. */
static JCOEF quantize(double c) {
  if (c >= MAX_COEF) return MAX_COEF;
  if (c <= -MAX_COEF) return -MAX_COEF;
  return (JCOEF)(c < 0 ? -(long)(-c + 0.5) : (long)(c + 0.5));
}

/* A block that is one constant: its DC, every AC zero; eight 16-byte stores (what GCC makes of
 * a memset of 128 bytes, `rep stos`, cost 12 MP's 127,000 blocks of 40 fills 1 ms more). */
INLINE void dc_block(JCOEF *block, JCOEF dc) {
  const s8 first = {dc, 0, 0, 0, 0, 0, 0, 0}, zero = {0, 0, 0, 0, 0, 0, 0, 0};
  memcpy(block, &first, sizeof first);
  for (int i = 1; i < 8; i++) {
    memcpy(block + 8 * i, &zero, sizeof zero);
    __asm__("" ::: "memory"); /* keeps the stores from being merged into a memset */
  }
}

/* A constant block (most of a fill or a pixelation): only its DC, 8 x (sample - 128). */
static void constant_block(double sample, const UINT16 *q, JCOEF *out) {
  dc_block(out, quantize(8.0 * (sample - 128.0) / q[0]));
}

/* 64 samples (0-255), transposed as idct_t leaves them (in->s[x * 8 + y]) -> quantized coefficients with the file's table. */
static void fdct_t(const Block4 *in, const Quant *t, JCOEF *out) {
  const f4 first = {in->s[0], in->s[0], in->s[0], in->s[0]};
  i4 same = in->v[0] == first;
  for (int i = 1; i < 16; i++) same &= in->v[i] == first;
  if (same[0] & same[1] & same[2] & same[3]) {
    constant_block(in->s[0], t->q, out);
    return;
  }
  Block4 a, b;
  const f4 level = {128.0f, 128.0f, 128.0f, 128.0f};
  for (int i = 0; i < 16; i++) a.v[i] = in->v[i] - level;
  PASS(fdct_vec, &a, &b); /* down each column: b[u][y] */
  transpose(&b, &a);      /* a[y][u] */
  PASS(fdct_vec, &a, &b); /* b[v][u]: natural order */
  /* Quantized four at a time, rounded half away from zero (add a half of the value's sign, then
   * truncate), clamped to MAX_COEF. */
  const i4 sign = {INT32_MIN, INT32_MIN, INT32_MIN, INT32_MIN}, half = (i4)(f4){0.5f, 0.5f, 0.5f, 0.5f};
  const f4 top = {MAX_COEF, MAX_COEF, MAX_COEF, MAX_COEF}, bottom = -top;
  for (int i = 0; i < 16; i++) {
    f4 x = b.v[i] * t->requant.v[i];
    x += (f4)(half | ((i4)x & sign));
    i4 high = x > top, low = x < bottom;
    x = (f4)(((i4)x & ~(high | low)) | ((i4)top & high) | ((i4)bottom & low));
    s4 c = __builtin_convertvector(__builtin_convertvector(x, i4), s4);
    memcpy(out + 4 * i, &c, sizeof c);
  }
}

/* The same from samples in natural order (in[y * 8 + x]). */
static void fdct(const double *in, const Quant *t, JCOEF *out) {
  Block4 a;
  for (int y = 0; y < 8; y++)
    for (int x = 0; x < 8; x++) a.s[x * 8 + y] = (float)in[y * 8 + x];
  fdct_t(&a, t, out);
}

static unsigned char clamp8(double v) {
  return v <= 0 ? 0 : v >= 255 ? 255 : (unsigned char)(v + 0.5);
}

/* ---- Regions ---- */

static Region align(const Handle *h, int x, int y, int w, int hgt) {
  Region r;
  int W = (int)h->src.image_width, H = (int)h->src.image_height;
  if (x < 0) { w += x; x = 0; }
  if (y < 0) { hgt += y; y = 0; }
  r.x0 = (x / h->mcu_w) * h->mcu_w;
  r.y0 = (y / h->mcu_h) * h->mcu_h;
  long ex = ((long)x + w + h->mcu_w - 1) / h->mcu_w * h->mcu_w, ey = ((long)y + hgt + h->mcu_h - 1) / h->mcu_h * h->mcu_h;
  r.x1 = ex > W ? W : (int)ex;
  r.y1 = ey > H ? H : (int)ey;
  if (r.x1 < r.x0) r.x1 = r.x0;
  if (r.y1 < r.y0) r.y1 = r.y0;
  return r;
}

/* One component's samples over the blocks covering the region (at the component's resolution). */
typedef struct {
  int bx0, by0, bw, bh; /* blocks */
  int hs, vs;           /* pixels per sample, horizontally and vertically */
  double *s;            /* bw*8 x bh*8 samples */
} Plane;

static inline void plane_geometry(const Handle *h, int c, const Region *r, Plane *p) {
  jpeg_component_info *comp = &h->src.comp_info[c];
  p->hs = h->src.max_h_samp_factor / comp->h_samp_factor;
  p->vs = h->src.max_v_samp_factor / comp->v_samp_factor;
  int bpx = 8 * p->hs, bpy = 8 * p->vs;
  p->bx0 = r->x0 / bpx;
  p->by0 = r->y0 / bpy;
  int bx1 = (r->x1 + bpx - 1) / bpx, by1 = (r->y1 + bpy - 1) / bpy;
  if (bx1 > (int)comp->width_in_blocks) bx1 = (int)comp->width_in_blocks;
  if (by1 > (int)comp->height_in_blocks) by1 = (int)comp->height_in_blocks;
  p->bw = bx1 - p->bx0;
  p->bh = by1 - p->by0;
}

static int decode_plane(Handle *h, int c, const Region *r, Plane *p) {
  plane_geometry(h, c, r, p);
  const Quant *q = &h->quant[c];
  int stride = p->bw * 8;
  p->s = malloc(sizeof(double) * (size_t)stride * p->bh * 8 + 1);
  if (!p->s) return 0;
  double block[64];
  for (int by = 0; by < p->bh; by++) {
    JBLOCKARRAY row = (*h->src.mem->access_virt_barray)((j_common_ptr)&h->src, h->coefs[c], (JDIMENSION)(p->by0 + by), 1, FALSE);
    for (int bx = 0; bx < p->bw; bx++) {
      idct(row[0][p->bx0 + bx], q, block);
      for (int y = 0; y < 8; y++) memcpy(&p->s[(size_t)(by * 8 + y) * stride + bx * 8], &block[y * 8], 8 * sizeof(double));
    }
  }
  return 1;
}

static int decode_region(Handle *h, const Region *r, unsigned char *bgr) {
  int n = h->src.num_components, w = r->x1 - r->x0;
  Plane p[3];
  int *column[3] = {NULL, NULL, NULL}; /* per component: sample index of each pixel column of the region */
  int ok = 1;
  for (int c = 0; c < n; c++) p[c].s = NULL;
  for (int c = 0; c < n && ok; c++) {
    ok = decode_plane(h, c, r, &p[c]) && (column[c] = malloc(sizeof(int) * (size_t)w)) != NULL;
    if (ok)
      for (int i = 0; i < w; i++) column[c][i] = (r->x0 + i) / p[c].hs - p[c].bx0 * 8;
  }
  if (ok) {
    for (int py = r->y0; py < r->y1; py++) {
      unsigned char *out = bgr + (size_t)(py - r->y0) * w * 3;
      const double *row[3];
      for (int c = 0; c < n; c++) row[c] = p[c].s + (size_t)(py / p[c].vs - p[c].by0 * 8) * p[c].bw * 8; /* box upsampling */
      if (n == 1) {
        for (int i = 0; i < w; i++, out += 3) out[0] = out[1] = out[2] = clamp8(row[0][column[0][i]]);
        continue;
      }
      for (int i = 0; i < w; i++, out += 3) {
        double Y = row[0][column[0][i]], cb = row[1][column[1][i]] - 128.0, cr = row[2][column[2][i]] - 128.0;
        out[2] = clamp8(Y + 1.402 * cr);
        out[1] = clamp8(Y - 0.344136 * cb - 0.714136 * cr);
        out[0] = clamp8(Y + 1.772 * cb);
      }
    }
  }
  for (int c = 0; c < n; c++) {
    free(p[c].s);
    free(column[c]);
  }
  return ok;
}

/* Component c of a BGR pixel as the encoder sees it: weight[0] * B + weight[1] * G + weight[2] * R + offset. */
static void component_weights(int c, int n, double weight[3], double *offset) {
  static const double y[3] = {0.114, 0.587, 0.299}, cb[3] = {0.5, -0.331264, -0.168736}, cr[3] = {-0.081312, -0.418688, 0.5};
  const double *from = (n == 1 || c == 0) ? y : c == 1 ? cb : cr;
  memcpy(weight, from, 3 * sizeof(double));
  *offset = (n == 1 || c == 0) ? 0.0 : 128.0;
}

/* How an MCU changed (Handle's changed): not, every block of each component set to one DC alone (paint_run), any other way. */
enum { CHANGED_NOT, CHANGED_DC, CHANGED_ANY };

/* Notes the MCUs of the MCU row at pixel row y whose pixel columns x0 to x1 (exclusive) meet as changed `how`. */
static void note_changed(Handle *h, int x0, int y, int x1, int how) {
  unsigned char *at = h->changed + (size_t)(y / h->mcu_h) * h->mcus_x;
  for (int m = x0 / h->mcu_w; m < (x1 + h->mcu_w - 1) / h->mcu_w; m++)
    if (how == CHANGED_ANY || at[m] == CHANGED_NOT) at[m] = (unsigned char)how;
}

/* Recomputes every block of the region whose pixels differ between `before` and `after`. */
static long encode_region(Handle *h, const Region *r, const unsigned char *before, const unsigned char *after) {
  int n = h->src.num_components, w = r->x1 - r->x0;
  long rewritten = 0;
  double block[64];
  for (int c = 0; c < n; c++) {
    Plane p;
    plane_geometry(h, c, r, &p);
    const Quant *q = &h->quant[c];
    double weight[3], offset, scale = 1.0 / (p.hs * p.vs);
    component_weights(c, n, weight, &offset);
    for (int by = 0; by < p.bh; by++) {
      JBLOCKARRAY row = NULL;
      for (int bx = 0; bx < p.bw; bx++) {
        /* The block's pixels, clipped to the region (which reaches the image edge where blocks pass it). */
        int px0 = (p.bx0 + bx) * 8 * p.hs, py0 = (p.by0 + by) * 8 * p.vs;
        int px1 = px0 + 8 * p.hs, py1 = py0 + 8 * p.vs;
        int cx1 = px1 < r->x1 ? px1 : r->x1, cy1 = py1 < r->y1 ? py1 : r->y1;
        int changed = 0;
        for (int py = py0; py < cy1 && !changed; py++) {
          size_t at = ((size_t)(py - r->y0) * w + (px0 - r->x0)) * 3;
          if (memcmp(before + at, after + at, (size_t)(cx1 - px0) * 3) != 0) changed = 1;
        }
        if (!changed) continue;
        /* Each sample: the average of its hs x vs pixels (edge pixels replicated past the image),
         * converted once (the conversion is linear, so averaging first is the same). The block's
         * pixel rows and columns, clamped to the region, are looked up once. */
        const unsigned char *lines[8 * MAX_SAMP_FACTOR];
        size_t cols[8 * MAX_SAMP_FACTOR];
        for (int k = 0; k < 8 * p.vs; k++) lines[k] = after + (size_t)((py0 + k < r->y1 ? py0 + k : r->y1 - 1) - r->y0) * w * 3;
        for (int k = 0; k < 8 * p.hs; k++) cols[k] = (size_t)((px0 + k < r->x1 ? px0 + k : r->x1 - 1) - r->x0) * 3;
        for (int sy = 0; sy < 8; sy++)
          for (int sx = 0; sx < 8; sx++) {
            int sum[3] = {0, 0, 0};
            for (int dy = 0; dy < p.vs; dy++) {
              const unsigned char *line = lines[sy * p.vs + dy];
              for (int dx = 0; dx < p.hs; dx++) {
                const unsigned char *at = line + cols[sx * p.hs + dx];
                sum[0] += at[0];
                sum[1] += at[1];
                sum[2] += at[2];
              }
            }
            block[sy * 8 + sx] = (weight[0] * sum[0] + weight[1] * sum[1] + weight[2] * sum[2]) * scale + offset;
          }
        if (!row) row = (*h->src.mem->access_virt_barray)((j_common_ptr)&h->src, h->coefs[c], (JDIMENSION)(p.by0 + by), 1, TRUE);
        fdct(block, q, row[0][p.bx0 + bx]);
        note_changed(h, px0, py0, px0 + 1, CHANGED_ANY);
        rewritten++;
      }
    }
  }
  return rewritten;
}

/* ---- Painting a rectangle under a mask: fill, pixelate, blur ---- */

/* An MCU's row of mask, all painted and all not (init sets the first). */
static unsigned char mask_full[8 * MAX_SAMP_FACTOR], mask_empty[8 * MAX_SAMP_FACTOR];

/*
 * Where a paint goes in its rectangle f: each pixel's opacity (`bytes`, 0-255, `width` a row), or
 * each row one run painted wholly (`runs`: [runs[2 y], runs[2 y + 1]) from f's left edge, none
 * when empty: an ellipse), or (neither) all of it.
 */
typedef struct {
  const unsigned char *bytes;
  const int *runs;
  int width;
} Mask;

/* Which part of the MCU at (px0, py0) the paint covers: 0 none, 2 every pixel wholly (inside the image), 1 some. */
static int mcu_coverage(const Handle *h, int px0, int py0, const Region *f, const Mask *mask) {
  int W = (int)h->src.image_width, H = (int)h->src.image_height;
  int px1 = px0 + h->mcu_w < W ? px0 + h->mcu_w : W, py1 = py0 + h->mcu_h < H ? py0 + h->mcu_h : H;
  int ix0 = px0 > f->x0 ? px0 : f->x0, iy0 = py0 > f->y0 ? py0 : f->y0;
  int ix1 = px1 < f->x1 ? px1 : f->x1, iy1 = py1 < f->y1 ? py1 : f->y1;
  if (ix1 <= ix0 || iy1 <= iy0) return 0;
  int whole = ix0 == px0 && iy0 == py0 && ix1 == px1 && iy1 == py1; /* the rectangle holds the whole MCU */
  /* Rows of the mask: all painted, none, or mixed. */
  int in = 0, out = !whole;
  if (mask->runs) {
    int a = ix0 - f->x0, b = ix1 - f->x0;
    for (int y = iy0; y < iy1 && !(in && out); y++) {
      int lo = mask->runs[2 * (y - f->y0)], hi = mask->runs[2 * (y - f->y0) + 1];
      if (lo <= a && hi >= b) in = 1;
      else if (hi <= a || lo >= b) out = 1;
      else return 1;
    }
  } else if (mask->bytes) {
    /* Compared whole (mostly 0 or 255 but at its edge). */
    size_t len = (size_t)(ix1 - ix0);
    for (int y = iy0; y < iy1 && !(in && out); y++) {
      const unsigned char *row = mask->bytes + (size_t)(y - f->y0) * mask->width + (ix0 - f->x0);
      if (memcmp(row, mask_full, len) == 0) in = 1;
      else if (memcmp(row, mask_empty, len) == 0) out = 1;
      else return 1;
    }
  } else {
    in = 1;
  }
  return !in ? 0 : out ? 1 : 2;
}

/* Per component, one value per block of a region (`at` says which blocks; its `s` is unused). */
typedef struct {
  Plane at;
  double *v; /* at.bw x at.bh */
} BlockGrid;

/*
 * What a mark paints, per component, in the file's own samples:
 *   PAINT_FLAT   one value (a fill's colour)
 *   PAINT_CELLS  one value per cell of a grid aligned to the MCUs (a pixelation): the cell's mean, from its blocks' DCs
 *   PAINT_FIELD  a smooth field (a blur): the region's block means blurred, linear between block centres
 */
enum { PAINT_FLAT, PAINT_CELLS, PAINT_FIELD };
typedef struct {
  int kind;
  double flat[3];
  int gx0, gy0, cw, ch, ncx, ncy; /* CELLS: the grid's corner and cell size (pixels, MCU multiples), cells across and down */
  double *cells;                  /* CELLS: ncx x ncy x 3 */
  BlockGrid field[3];             /* FIELD */
  unsigned char *own_mask;        /* the mask, when the addon draws it (box_mask) */
  int *own_runs;                  /* the same as runs (ellipse_runs) */
} Paint;

static void paint_free(Paint *p) {
  if (!p) return;
  free(p->own_mask);
  free(p->own_runs);
  free(p->cells);
  for (int c = 0; c < 3; c++) free(p->field[c].v);
  free(p);
}

/* Sample c of a BGR colour, as encode_region computes it from equal pixels. */
static double colour_sample(int c, int n, const int bgr[3]) {
  double weight[3], offset;
  component_weights(c, n, weight, &offset);
  return weight[0] * bgr[0] + weight[1] * bgr[1] + weight[2] * bgr[2] + offset;
}

/* The mean sample of a block, from its DC alone. */
static double block_mean(const JCOEF *block, const UINT16 *q) {
  return block[0] * q[0] / 8.0 + 128.0;
}

/* Pixelation cells from the corner of the MCU-aligned region `r`: each cell's mean per component, from the DCs of its blocks in `r`. */
static int cells_setup(Handle *h, const Region *r, int cw, int ch, Paint *p) {
  int n = h->src.num_components;
  p->kind = PAINT_CELLS;
  p->gx0 = r->x0;
  p->gy0 = r->y0;
  p->cw = cw;
  p->ch = ch;
  p->ncx = (r->x1 - r->x0 + cw - 1) / cw;
  p->ncy = (r->y1 - r->y0 + ch - 1) / ch;
  size_t cells = (size_t)p->ncx * p->ncy;
  p->cells = calloc(cells * 3 + 1, sizeof(double));
  long *count = calloc(cells * 3 + 1, sizeof(long));
  if (!p->cells || !count) {
    free(count);
    return 0;
  }
  for (int c = 0; c < n; c++) {
    Plane g;
    plane_geometry(h, c, r, &g);
    const UINT16 *q = h->quant[c].q;
    for (int by = 0; by < g.bh; by++) {
      JBLOCKARRAY row = (*h->src.mem->access_virt_barray)((j_common_ptr)&h->src, h->coefs[c], (JDIMENSION)(g.by0 + by), 1, FALSE);
      size_t j = (size_t)((g.by0 + by) * 8 * g.vs - r->y0) / ch;
      for (int bx = 0; bx < g.bw; bx++) {
        size_t k = (j * p->ncx + (size_t)((g.bx0 + bx) * 8 * g.hs - r->x0) / cw) * 3 + c;
        p->cells[k] += block_mean(row[0][g.bx0 + bx], q);
        count[k]++;
      }
    }
  }
  for (size_t k = 0; k < cells * 3; k++)
    if (count[k]) p->cells[k] /= count[k];
  free(count);
  return 1;
}

/* Three passes of a box of radius `radius` along n values `stride` apart, the ends replicated: about a Gaussian of variance radius x (radius + 1). */
static void box_passes(double *v, int n, int stride, int radius, double *tmp) {
  if (radius < 1 || n < 2) return;
  double *sum = tmp; /* n + 2 radius + 1 prefix sums */
  for (int pass = 0; pass < 3; pass++) {
    sum[0] = 0;
    for (int i = -radius; i < n + radius; i++) {
      int at = i < 0 ? 0 : i >= n ? n - 1 : i;
      sum[i + radius + 1] = sum[i + radius] + v[(size_t)at * stride];
    }
    for (int i = 0; i < n; i++) v[(size_t)i * stride] = (sum[i + 2 * radius + 1] - sum[i]) / (2 * radius + 1);
  }
}

/* The box radius whose three passes give about a Gaussian of `sigma` (variance r(r + 1)). */
static int box_radius(double sigma) {
  return (int)floor((-1.0 + sqrt(1.0 + 4.0 * sigma * sigma)) / 2.0 + 0.5);
}

/* The blur's field over the MCU-aligned region `r`: per component, its blocks' means blurred by a Gaussian of `sigma` pixels. */
static int field_setup(Handle *h, const Region *r, double sigma, Paint *p) {
  int n = h->src.num_components;
  p->kind = PAINT_FIELD;
  for (int c = 0; c < n; c++) {
    BlockGrid *g = &p->field[c];
    plane_geometry(h, c, r, &g->at);
    int bw = g->at.bw, bh = g->at.bh, longer = bw > bh ? bw : bh;
    g->v = malloc(sizeof(double) * ((size_t)bw * bh + 1));
    if (!g->v) return 0;
    const UINT16 *q = h->quant[c].q;
    for (int by = 0; by < bh; by++) {
      JBLOCKARRAY row = (*h->src.mem->access_virt_barray)((j_common_ptr)&h->src, h->coefs[c], (JDIMENSION)(g->at.by0 + by), 1, FALSE);
      for (int bx = 0; bx < bw; bx++) g->v[(size_t)by * bw + bx] = block_mean(row[0][g->at.bx0 + bx], q);
    }
    /* Sigma in this component's blocks (8 samples of hs x vs pixels each); past a few grid sides
     * the passes only average the replicated ends further. */
    int rx = box_radius(sigma / (8.0 * g->at.hs)), ry = box_radius(sigma / (8.0 * g->at.vs));
    if (rx > 4 * longer) rx = 4 * longer;
    if (ry > 4 * longer) ry = 4 * longer;
    double *tmp = malloc(sizeof(double) * ((size_t)longer + 2 * (size_t)(rx > ry ? rx : ry) + 2));
    if (!tmp) return 0;
    for (int by = 0; by < bh; by++) box_passes(g->v + (size_t)by * bw, bw, 1, rx, tmp);
    for (int bx = 0; bx < bw; bx++) box_passes(g->v + bx, bh, bw, ry, tmp);
    free(tmp);
  }
  return 1;
}

/* The field at sample (sx, sy) of its component (absolute sample coordinates): bilinear between block centres, flat past the outer ones. */
static double field_at(const BlockGrid *g, double sx, double sy) {
  int bw = g->at.bw, bh = g->at.bh;
  double u = (sx - 3.5) / 8.0 - g->at.bx0, v = (sy - 3.5) / 8.0 - g->at.by0;
  u = u < 0 ? 0 : u > bw - 1 ? bw - 1 : u;
  v = v < 0 ? 0 : v > bh - 1 ? bh - 1 : v;
  int i = (int)u, j = (int)v;
  if (i > bw - 2) i = bw > 1 ? bw - 2 : 0;
  if (j > bh - 2) j = bh > 1 ? bh - 2 : 0;
  double fu = bw > 1 ? u - i : 0, fv = bh > 1 ? v - j : 0;
  const double *a = g->v + (size_t)j * bw + i;
  double top = bw > 1 ? a[0] + fu * (a[1] - a[0]) : a[0];
  if (bh == 1) return top;
  const double *b = a + bw;
  double bottom = bw > 1 ? b[0] + fu * (b[1] - b[0]) : b[0];
  return top + fv * (bottom - top);
}

/* A block of the field wholly painted: its mean (DC) and its slope across and down (the odd AC of the first row and column) from the neighbouring block means. */
static void ramp_block(const BlockGrid *g, int bx, int by, const UINT16 *q, JCOEF *out) {
  int bw = g->at.bw, bh = g->at.bh, i = bx - g->at.bx0, j = by - g->at.by0;
  const double *v = g->v;
  int l = i > 0 ? i - 1 : i, r = i < bw - 1 ? i + 1 : i, t = j > 0 ? j - 1 : j, b = j < bh - 1 ? j + 1 : j;
  double gx = r > l ? (v[(size_t)j * bw + r] - v[(size_t)j * bw + l]) / (8.0 * (r - l)) : 0;
  double gy = b > t ? (v[(size_t)b * bw + i] - v[(size_t)t * bw + i]) / (8.0 * (b - t)) : 0;
  memset(out, 0, 64 * sizeof(JCOEF));
  out[0] = quantize(8.0 * (v[(size_t)j * bw + i] - 128.0) / q[0]);
  for (int k = 1; k < 8; k += 2) {
    out[k] = quantize(ramp_coef[k] * gx / q[k]);
    out[k * 8] = quantize(ramp_coef[k] * gy / q[k * 8]);
  }
}

/* The paint's constant per component at the MCU whose corner is (px0, py0): a fill's colour, a pixelation cell's mean; NULL for a field. */
static const double *paint_value(const Paint *paint, int px0, int py0) {
  if (paint->kind == PAINT_FLAT) return paint->flat;
  if (paint->kind == PAINT_CELLS)
    return paint->cells + ((size_t)((py0 - paint->gy0) / paint->ch) * paint->ncx + (size_t)((px0 - paint->gx0) / paint->cw)) * 3;
  return NULL;
}

/* How much of a block the paint covers: any of it, all of it, and (when some) each sample's share, 0-1, transposed as idct_t leaves the samples ([x * 8 + y]). */
typedef struct {
  int any, all;
  Block4 weight;
} Cover;

/*
 * The coverage of the block whose samples are hs x vs pixels each from (ox, oy) of an MCU's pixel
 * coverage `cov` (0-255 per pixel): a sample's share is the sum of its pixels' over 255 hs vs.
 */
static void block_cover(const unsigned char cov[][8 * MAX_SAMP_FACTOR], int ox, int oy, int hs, int vs, Cover *k) {
  /* Any and all first, eight pixels at a time: most blocks an edge MCU holds are wholly in or out. */
  uint64_t any = 0, all = ~(uint64_t)0;
  for (int y = 0; y < 8 * vs; y++)
    for (int x = 0; x < 8 * hs; x += 8) {
      uint64_t eight;
      memcpy(&eight, &cov[oy + y][ox + x], sizeof eight);
      any |= eight;
      all &= eight;
    }
  k->any = any != 0;
  k->all = all == ~(uint64_t)0;
  if (!k->any || k->all) return;
  Block4 natural;
  if (hs <= 2 && vs <= 2) {
    /* Eight samples a row at a time: a row of pixels as 16-bit lanes (hs 2: each lane a pair of
     * pixels, summed as its low and high byte), the vs rows added. */
    const float scale = 1.0f / (255 * hs * vs);
    for (int sy = 0; sy < 8; sy++) {
      u16x8 sum = {0, 0, 0, 0, 0, 0, 0, 0};
      for (int dy = 0; dy < vs; dy++) {
        const unsigned char *b = &cov[oy + sy * vs + dy][ox];
        if (hs == 1) {
          u8x8 row;
          memcpy(&row, b, sizeof row);
          sum += __builtin_convertvector(row, u16x8);
        } else {
          u16x8 pairs;
          memcpy(&pairs, b, sizeof pairs);
          sum += (pairs & 0xff) + (pairs >> 8);
        }
      }
      f8 v = __builtin_convertvector(sum, f8) * scale;
      memcpy(&natural.v[2 * sy], &v, sizeof v);
    }
  } else {
    float scale = 1.0f / (255 * hs * vs);
    for (int sy = 0; sy < 8; sy++)
      for (int sx = 0; sx < 8; sx++) {
        int count = 0;
        for (int dy = 0; dy < vs; dy++)
          for (int dx = 0; dx < hs; dx++) count += cov[oy + sy * vs + dy][ox + sx * hs + dx];
        natural.s[sy * 8 + sx] = (float)count * scale;
      }
  }
  transpose(&natural, &k->weight);
}

/*
 * Paints the MCU at (px0, py0), which the paint covers wholly (cover 2) or in part (1), block by
 * block in the file's own samples. A block wholly covered is set from the paint straight into its
 * coefficients (a constant's DC, or the field's ramp). A block on the mask's edge is decoded, each
 * sample blended with the paint's by the share of its hs x vs pixels (the image's edge pixels
 * replicated past it) the mask covers, each pixel by its mask byte / 255 (an anti-aliased line's
 * opacity), which is what averaging those pixels after blending the paint over them by that
 * opacity gives (the colour conversion is linear), then forward DCT and quantized; nothing goes through
 * 8-bit BGR, so the samples the paint leaves keep their exact values. A block the mask misses is
 * not touched. How many blocks were rewritten.
 */
static long paint_mcu(Handle *h, int px0, int py0, int cover, const Region *f, const Mask *mask, const Paint *paint) {
  int n = h->src.num_components, W = (int)h->src.image_width, H = (int)h->src.image_height;
  long blocks = 0;
  Block4 samples;
  /* How much of each pixel of the MCU the paint covers (the mask's byte, 0-255), past the image's edge as the edge pixel. */
  unsigned char cov[8 * MAX_SAMP_FACTOR][8 * MAX_SAMP_FACTOR];
  if (cover == 1) {
    int column[8 * MAX_SAMP_FACTOR]; /* the mask's column of each pixel column, -1 outside the rectangle */
    for (int x = 0; x < h->mcu_w; x++) {
      int ix = px0 + x < W ? px0 + x : W - 1;
      column[x] = ix >= f->x0 && ix < f->x1 ? ix - f->x0 : -1;
    }
    /* The MCU inside the image: its columns inside the rectangle are one stretch [in0, in1), each row's a copy of the mask's. */
    int straight = px0 + h->mcu_w <= W, in0 = 0, in1 = 0;
    for (int x = 0; x < h->mcu_w; x++)
      if (column[x] >= 0) {
        if (in1 == in0) in0 = x;
        in1 = x + 1;
      }
    for (int y = 0; y < h->mcu_h; y++) {
      int iy = py0 + y < H ? py0 + y : H - 1;
      if (iy < f->y0 || iy >= f->y1) {
        memset(cov[y], 0, (size_t)h->mcu_w);
        continue;
      }
      if (mask->runs) {
        int lo = mask->runs[2 * (iy - f->y0)], hi = mask->runs[2 * (iy - f->y0) + 1];
        if (straight) { /* the run's part of the stretch */
          int a = in1 > in0 ? in0 + (lo - column[in0]) : 0, b = in1 > in0 ? in0 + (hi - column[in0]) : 0;
          if (a < in0) a = in0;
          if (b > in1) b = in1;
          memset(cov[y], 0, (size_t)h->mcu_w);
          if (b > a) memset(cov[y] + a, 255, (size_t)(b - a));
        } else
          for (int x = 0; x < h->mcu_w; x++) cov[y][x] = column[x] >= lo && column[x] < hi ? 255 : 0;
        continue;
      }
      const unsigned char *line = mask->bytes ? mask->bytes + (size_t)(iy - f->y0) * mask->width : NULL;
      if (straight && line) {
        memset(cov[y], 0, (size_t)h->mcu_w);
        if (in1 > in0) memcpy(cov[y] + in0, line + column[in0], (size_t)(in1 - in0));
      } else
        for (int x = 0; x < h->mcu_w; x++) cov[y][x] = column[x] < 0 ? 0 : line ? line[column[x]] : 255;
    }
  }
  const double *value = paint_value(paint, px0, py0);
  Region m = {px0, py0, px0 + h->mcu_w, py0 + h->mcu_h};
  /* A block's coverage: computed for the first component with these sampling factors, the next
   * (Cr after Cb) takes it as it is. */
  Cover covers[MAX_SAMP_FACTOR * MAX_SAMP_FACTOR];
  int covers_hs = 0, covers_vs = 0;
  for (int c = 0; c < n; c++) {
    Plane p;
    plane_geometry(h, c, &m, &p);
    int reuse = p.hs == covers_hs && p.vs == covers_vs;
    covers_hs = p.hs;
    covers_vs = p.vs;
    const Quant *q = &h->quant[c];
    JCOEF dc = value ? quantize(8.0 * (value[c] - 128.0) / q->q[0]) : 0;
    for (int by = p.by0; by < p.by0 + p.bh; by++) {
      JBLOCKARRAY row = NULL;
      for (int bx = p.bx0; bx < p.bx0 + p.bw; bx++) {
        Cover *k = &covers[(by - p.by0) * MAX_SAMP_FACTOR + (bx - p.bx0)];
        if (cover == 2) k->any = k->all = 1;
        else if (!reuse) block_cover(cov, (bx - p.bx0) * 8 * p.hs, (by - p.by0) * 8 * p.vs, p.hs, p.vs, k);
        if (!k->any) continue;
        if (!row) row = (*h->src.mem->access_virt_barray)((j_common_ptr)&h->src, h->coefs[c], (JDIMENSION)by, 1, TRUE);
        JCOEF *block = row[0][bx];
        if (k->all && value) {
          dc_block(block, dc);
        } else if (k->all) {
          ramp_block(&paint->field[c], bx, by, q->q, block);
        } else {
          idct_t(block, q, &samples);
          if (value) { /* one target: four samples at a time */
            f4 target = {(float)value[c], (float)value[c], (float)value[c], (float)value[c]};
            for (int i = 0; i < 16; i++) samples.v[i] += k->weight.v[i] * (target - samples.v[i]);
          } else {
            for (int s = 0; s < 64; s++)
              if (k->weight.s[s] != 0) samples.s[s] += k->weight.s[s] * ((float)field_at(&paint->field[c], bx * 8 + (s >> 3), by * 8 + (s & 7)) - samples.s[s]);
          }
          fdct_t(&samples, q, block);
        }
        blocks++;
      }
    }
  }
  if (blocks) note_changed(h, px0, py0, px0 + 1, CHANGED_ANY);
  return blocks;
}

/*
 * The MCUs from x0 to x1 (pixels) of the MCU row at py0, which the paint covers wholly with one
 * constant per MCU (a fill's colour, a pixelation cell's mean): every block set to its DC, a row
 * of blocks at a time. How many blocks were rewritten.
 */
static long paint_run(Handle *h, int x0, int x1, int py0, const Paint *paint) {
  Region m = {x0, py0, x1, py0 + h->mcu_h};
  long blocks = 0;
  for (int c = 0; c < h->src.num_components; c++) {
    Plane p;
    plane_geometry(h, c, &m, &p);
    const UINT16 *q = h->quant[c].q;
    int bpx = 8 * p.hs;
    for (int by = p.by0; by < p.by0 + p.bh; by++) {
      JBLOCKROW row = (*h->src.mem->access_virt_barray)((j_common_ptr)&h->src, h->coefs[c], (JDIMENSION)by, 1, TRUE)[0];
      const double *value = NULL;
      JCOEF dc = 0;
      for (int bx = p.bx0; bx < p.bx0 + p.bw; bx++) {
        const double *v = paint_value(paint, bx * bpx, py0);
        if (v != value) {
          value = v;
          dc = quantize(8.0 * (v[c] - 128.0) / q[0]);
        }
        dc_block(row[bx], dc);
      }
      blocks += p.bw;
    }
  }
  note_changed(h, x0, py0, x1, CHANGED_DC);
  return blocks;
}

/*
 * Paints the pixels of `f` (inside the image) by `mask` (f's width x height, each byte the paint's
 * opacity there, 255: wholly; NULL: all wholly), MCU by MCU: one the mask misses is not read; a
 * run of them it covers wholly with a constant is set from the paint (paint_run); one on its edge,
 * or under a field, is painted block by block (paint_mcu). `hole` (or NULL): pixels the mask
 * misses, whose MCUs need no look. How many blocks were rewritten.
 */
static long paint_region(Handle *h, const Region *f, const Mask *mask, const Region *hole, const Paint *paint) {
  Region r = align(h, f->x0, f->y0, f->x1 - f->x0, f->y1 - f->y0);
  long rewritten = 0;
  for (int py0 = r.y0; py0 < r.y1; py0 += h->mcu_h) {
    int run = -1; /* where a run of wholly covered MCUs began */
    int in_hole = hole && py0 >= hole->y0 && py0 + h->mcu_h <= hole->y1;
    for (int px0 = r.x0;; px0 += h->mcu_w) {
      int cover = 0;
      if (px0 < r.x1 && !(in_hole && px0 >= hole->x0 && px0 + h->mcu_w <= hole->x1)) cover = mcu_coverage(h, px0, py0, f, mask);
      if (cover == 2 && paint->kind != PAINT_FIELD) {
        if (run < 0) run = px0;
        continue;
      }
      if (run >= 0) {
        rewritten += paint_run(h, run, px0 < r.x1 ? px0 : r.x1, py0, paint);
        run = -1;
      }
      if (px0 >= r.x1) break;
      if (cover) rewritten += paint_mcu(h, px0, py0, cover, f, mask, paint);
    }
  }
  return rewritten;
}

/*
 * ---- Detection's reduced image: open(bytes, level, orientation, pixels) ----
 * The photo at 1/2 or 1/4 of its size, made by libjpeg-turbo itself while open() reads the
 * coefficients: its buffered-image mode (libjpeg.txt, "Buffered-image mode") reads the file into
 * the same whole-image coefficient arrays jpeg_read_coefficients returns, and an output pass at
 * the scaled size runs the library's own reduced inverse DCTs, fancy upsampling and colour
 * conversion (SIMD where it has them) over those arrays: one entropy decode for both, and the
 * pixels are byte for byte what a scaled decode by the same library gives (OpenCV's
 * IMREAD_REDUCED_COLOR_n). Its kernels are not exported (and libjpeg.so.62 is a shared library
 * here, the layer's), so the public API is how to drive them; a transform of our own from the
 * coefficients was slower (12 ms against libjpeg's 5 at 12 MP, 1/2) and only within 3 levels.
 * A sequential file whose one scan holds every component is output as it is read (each MCU row
 * while its coefficients are still in the cache); any other file after its last scan, as
 * libjpeg's own scaled decode does. 1/8 of a sequential file is a decode apart (reduced_apart). The rows go into
 * `pixels` turned by the EXIF orientation.
 */

/* Where stored pixel (x, y) of a w x h image goes in the output turned by EXIF `orientation`: origin + x * dx + y * dy, in pixels. */
static void oriented_steps(int orientation, long w, long h, long *origin, long *dx, long *dy) {
  switch (orientation) {
    case 2: *origin = w - 1; *dx = -1; *dy = w; break;
    case 3: *origin = (h - 1) * w + w - 1; *dx = -1; *dy = -w; break;
    case 4: *origin = (h - 1) * w; *dx = 1; *dy = -w; break;
    case 5: *origin = 0; *dx = h; *dy = 1; break;
    case 6: *origin = h - 1; *dx = h; *dy = -1; break;
    case 7: *origin = (w - 1) * h + h - 1; *dx = -h; *dy = -1; break;
    case 8: *origin = (w - 1) * h; *dx = -h; *dy = 1; break;
    default: *origin = 0; *dx = 1; *dy = w; break;
  }
}

static void reduced_size(const Handle *h, int level, long *w, long *hgt) {
  long scale = 1L << level;
  *w = ((long)h->src.image_width + scale - 1) / scale;
  *hgt = ((long)h->src.image_height + scale - 1) / scale;
}

/* Before jpeg_start_decompress: the scaled decode to BGR (buffered: the coefficients kept whole for the output). */
static void reduced_setup(j_decompress_ptr d, int level, boolean buffered) {
  d->buffered_image = buffered;
  d->scale_num = 1;
  d->scale_denom = 1U << level;
  d->out_color_space = JCS_EXT_BGR; /* libjpeg-turbo's extension; grayscale is replicated */
}

/*
 * Rows read at a time when the orientation turns rows into columns (5-8): each output row then gets
 * runs of this many pixels, not one 3-byte write per stored row, each a whole output row from the last.
 */
#define REDUCED_BAND 16

/* The output pass's rows (w x hgt as stored) into `bgr`, turned by `orientation`; `band`: REDUCED_BAND rows of w x 3 bytes of scratch. */
static void reduced_rows(j_decompress_ptr d, int orientation, unsigned char *bgr, long w, long hgt, unsigned char *band) {
  long origin, dx, dy;
  oriented_steps(orientation, w, hgt, &origin, &dx, &dy);
  const long rows = orientation >= 5 ? REDUCED_BAND : 1;
  for (long y = 0; y < hgt; y += rows) {
    if (orientation == 1) {
      unsigned char *out = bgr + y * w * 3;
      jpeg_read_scanlines(d, &out, 1);
      continue;
    }
    const long n = hgt - y < rows ? hgt - y : rows;
    for (long k = 0; k < n; k++) {
      unsigned char *out = band + k * w * 3;
      jpeg_read_scanlines(d, &out, 1);
    }
    if (rows == 1) {
      unsigned char *at = bgr + (origin + y * dy) * 3;
      for (long x = 0; x < w; x++, at += dx * 3) memcpy(at, band + x * 3, 3);
      continue;
    }
    /* dy is +1 or -1 here: stored column x of these n rows is one run of n pixels in the output. */
    for (long x = 0; x < w; x++) {
      const long first = origin + x * dx + y * dy;
      unsigned char *run = bgr + (dy > 0 ? first : first - (n - 1)) * 3;
      const unsigned char *from = band + x * 3;
      if (dy > 0)
        for (long k = 0; k < n; k++) memcpy(run + k * 3, from + k * w * 3, 3);
      else
        for (long k = 0; k < n; k++) memcpy(run + (n - 1 - k) * 3, from + k * w * 3, 3);
    }
  }
}

/*
 * Reads the whole file into the coefficient arrays (buffered-image mode), writing the reduced image
 * into `bgr` on the way; h->red_row: reduced_rows' scratch. libjpeg errors longjmp out.
 */
static void reduced_read(Handle *h, int orientation, unsigned char *bgr, long w, long hgt) {
  j_decompress_ptr d = &h->src;
  jpeg_start_decompress(d); /* buffered-image mode: only sets up, reads nothing past the first SOS */
  if (d->progressive_mode || d->comps_in_scan != d->num_components) {
    /* Several scans: the output comes from the last (libjpeg's scaled decode absorbs the file first too). */
    int status;
    do status = jpeg_consume_input(d);
    while (status != JPEG_REACHED_EOI && status != JPEG_SUSPENDED);
  }
  jpeg_start_output(d, d->input_scan_number);
  reduced_rows(d, orientation, bgr, w, hgt, h->red_row);
  jpeg_finish_output(d);
  while (!jpeg_input_complete(d)) {
    int status = jpeg_consume_input(d);
    if (status == JPEG_SUSPENDED || status == JPEG_REACHED_EOI) break;
  }
}

/*
 * At 1/8 libjpeg's sequential entropy decoder keeps only the DC of a block whose output is one
 * sample (luma; jdhuff.c's ac_needed), so a sequential file's coefficients would not be whole: its
 * image is a scaled decode of its own (a second entropy decode, without the AC stores and inverse
 * DCTs of the rest: about 0.4x of a full decode), before the coefficients are read. A progressive
 * file's decoder keeps every coefficient: it is read once, as at the other levels. 0: libjpeg failed
 * (its message in `message`, JMSG_LENGTH_MAX bytes).
 */
static int reduced_apart(const unsigned char *data, size_t size, int orientation, unsigned char *bgr, long w, long hgt, unsigned char *band, char *message) {
  struct jpeg_decompress_struct d;
  ErrorManager err;
  d.err = (struct jpeg_error_mgr *)&err;
  install_errors(&err);
  if (setjmp(err.jump)) {
    memcpy(message, err.message, JMSG_LENGTH_MAX);
    jpeg_destroy_decompress(&d);
    return 0;
  }
  jpeg_create_decompress(&d);
  jpeg_mem_src(&d, data, (unsigned long)size);
  jpeg_read_header(&d, TRUE);
  reduced_setup(&d, 3, FALSE);
  jpeg_start_decompress(&d);
  if ((long)d.output_width != w || (long)d.output_height != hgt) ERREXIT(&d, JERR_IMAGE_TOO_BIG); /* cannot be: the same header */
  reduced_rows(&d, orientation, bgr, w, hgt, band);
  jpeg_abort_decompress(&d); /* the rest of the file: the coefficient read's */
  jpeg_destroy_decompress(&d);
  return 1;
}

/* ---- Node-API glue ---- */
#define CHECK(call)                                                   \
  do {                                                                \
    if ((call) != napi_ok) {                                          \
      napi_throw_error(env, "ERR_JPEG_ADDON", "Node-API call failed"); \
      return NULL;                                                    \
    }                                                                 \
  } while (0)

static napi_value throw_coded(napi_env env, const char *code, const char *message) {
  napi_throw_error(env, code, message);
  return NULL;
}

static void release(Handle *h) {
  free(h->red_row);
  h->red_row = NULL;
  free(h->last_pixels);
  h->last_pixels = NULL;
  if (h->open) {
    jpeg_destroy_decompress(&h->src);
    h->open = 0;
  }
  free(h->changed);
  h->changed = NULL;
}

static void finalize(napi_env env, void *data, void *hint) {
  (void)hint;
  Handle *h = data;
  (void)env;
  release(h);
  free(h);
}

static Handle *handle_arg(napi_env env, napi_value v) {
  void *data = NULL;
  if (napi_get_value_external(env, v, &data) != napi_ok || !data) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "expected a handle from open()");
    return NULL;
  }
  Handle *h = data;
  if (!h->open) {
    napi_throw_error(env, "ERR_JPEG_CLOSED", "the handle is closed");
    return NULL;
  }
  return h;
}

static int int_args(napi_env env, napi_value *argv, int from, int count, int *out, const char *message);

static napi_value js_open(napi_env env, napi_callback_info info) {
  size_t argc = 4;
  napi_value argv[4];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data;
  size_t size;
  bool is_buffer = false;
  if (argc < 1 || napi_is_buffer(env, argv[0], &is_buffer) != napi_ok || !is_buffer) {
    napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", "open() takes a Buffer");
    return NULL;
  }
  /* Optional: the level and orientation of detection's reduced image, and the Buffer it goes into. */
  int reduced[2] = {0, 1};
  unsigned char *pixels = NULL;
  size_t pixels_size = 0;
  if (argc >= 2) {
    bool is_pixels = false;
    if (argc < 4 || napi_is_buffer(env, argv[3], &is_pixels) != napi_ok || !is_pixels) return throw_coded(env, "ERR_INVALID_ARG_TYPE", "open(bytes, level, orientation, pixels): pixels must be a Buffer");
    if (!int_args(env, argv, 1, 2, reduced, "level and orientation must be numbers")) return NULL;
    if (reduced[0] < 1 || reduced[0] > 3) return throw_coded(env, "ERR_INVALID_ARG_VALUE", "level must be 1, 2 or 3 (1/2, 1/4 or 1/8 of the size)");
    if (reduced[1] < 1 || reduced[1] > 8) return throw_coded(env, "ERR_INVALID_ARG_VALUE", "orientation must be an EXIF orientation, 1-8");
    CHECK(napi_get_buffer_info(env, argv[3], (void **)&pixels, &pixels_size));
  }
  /* libjpeg reads the caller's bytes in place: only during this call (the handle keeps the coefficients, not the file). */
  CHECK(napi_get_buffer_info(env, argv[0], &data, &size));
  Handle *h = calloc(1, sizeof(Handle));
  if (!h) return throw_coded(env, "ERR_JPEG_MEMORY", "out of memory");
  h->size = size;
  h->src.err = (struct jpeg_error_mgr *)&h->err;
  install_errors(&h->err);
  char message[JMSG_LENGTH_MAX + 64];
  if (setjmp(h->err.jump)) {
    snprintf(message, sizeof message, "libjpeg: %s", h->err.message);
    release(h);
    free(h);
    return throw_coded(env, "ERR_JPEG_UNSUPPORTED", message);
  }
  jpeg_create_decompress(&h->src);
  h->open = 1;
  jpeg_mem_src(&h->src, size ? data : (const unsigned char *)"", (unsigned long)size);
  jpeg_read_header(&h->src, TRUE);
  const char *refusal = NULL;
  int n = h->src.num_components;
  if (h->src.arith_code) refusal = "arithmetic coding";
  else if (h->src.data_precision != 8) refusal = "not 8-bit samples";
  else if (!((n == 1 && h->src.jpeg_color_space == JCS_GRAYSCALE) || (n == 3 && h->src.jpeg_color_space == JCS_YCbCr))) refusal = "not grayscale or YCbCr (CMYK, YCCK or RGB)";
  for (int c = 0; c < n && !refusal; c++) {
    jpeg_component_info *comp = &h->src.comp_info[c];
    if (h->src.max_h_samp_factor % comp->h_samp_factor || h->src.max_v_samp_factor % comp->v_samp_factor) refusal = "fractional chroma subsampling";
  }
  if (refusal) {
    snprintf(message, sizeof message, "the coefficient path does not take this JPEG: %s", refusal);
    release(h);
    free(h);
    return throw_coded(env, "ERR_JPEG_UNSUPPORTED", message);
  }
  if (reduced[0]) {
    long w, hgt;
    reduced_size(h, reduced[0], &w, &hgt);
    if (pixels_size != (size_t)w * (size_t)hgt * 3) {
      snprintf(message, sizeof message, "pixels must be %ld x %ld x 3 bytes (the photo at 1/%d), got %zu", w, hgt, 1 << reduced[0], pixels_size);
      release(h);
      free(h);
      return throw_coded(env, "ERR_INVALID_ARG_VALUE", message);
    }
    h->red_row = malloc((size_t)w * 3 * REDUCED_BAND);
    if (!h->red_row) {
      release(h);
      free(h);
      return throw_coded(env, "ERR_JPEG_MEMORY", "out of memory");
    }
    if (reduced[0] == 3 && !h->src.progressive_mode) {
      char why[JMSG_LENGTH_MAX];
      if (!reduced_apart(data, size, reduced[1], pixels, w, hgt, h->red_row, why)) {
        snprintf(message, sizeof message, "libjpeg: %s", why);
        release(h);
        free(h);
        return throw_coded(env, "ERR_JPEG_UNSUPPORTED", message);
      }
    } else {
      reduced_setup(&h->src, reduced[0], TRUE);
      reduced_read(h, reduced[1], pixels, w, hgt);
    }
    free(h->red_row);
    h->red_row = NULL;
  }
  h->coefs = jpeg_read_coefficients(&h->src);
  if (h->err.warnings) {
    snprintf(message, sizeof message, "libjpeg warned while reading: %s", h->err.message);
    release(h);
    free(h);
    return throw_coded(env, "ERR_JPEG_UNSUPPORTED", message);
  }
  for (int c = 0; c < n; c++) {
    if (!h->src.comp_info[c].quant_table) {
      /* A component no scan carried (a truncated progressive file libjpeg did not warn about). */
      release(h);
      free(h);
      return throw_coded(env, "ERR_JPEG_UNSUPPORTED", "the coefficient path does not take this JPEG: a component without a quantization table");
    }
    const UINT16 *q = h->src.comp_info[c].quant_table->quantval;
    for (int k = 0; k < 64; k++) {
      if (q[k] == 0) {
        /* libjpeg decodes it (as 0); the edits divide by it. */
        release(h);
        free(h);
        return throw_coded(env, "ERR_JPEG_UNSUPPORTED", "the coefficient path does not take this JPEG: a quantization table with a zero");
      }
    }
    init_quant(&h->quant[c], q);
  }
  h->src.src = NULL; /* the caller's bytes: not read again */
  h->mcu_w = n == 1 ? 8 : 8 * h->src.max_h_samp_factor;
  h->mcu_h = n == 1 ? 8 : 8 * h->src.max_v_samp_factor;
  h->mcus_x = ((int)h->src.image_width + h->mcu_w - 1) / h->mcu_w;
  h->mcus_y = ((int)h->src.image_height + h->mcu_h - 1) / h->mcu_h;
  h->changed = calloc((size_t)h->mcus_x * h->mcus_y + 1, 1);
  if (!h->changed) {
    release(h);
    free(h);
    return throw_coded(env, "ERR_JPEG_MEMORY", "out of memory");
  }
  napi_value external;
  if (napi_create_external(env, h, finalize, NULL, &external) != napi_ok) {
    release(h);
    free(h);
    return throw_coded(env, "ERR_JPEG_ADDON", "Node-API call failed");
  }
  return external;
}

static napi_value set_int(napi_env env, napi_value obj, const char *key, long value) {
  napi_value v;
  if (napi_create_int64(env, value, &v) != napi_ok || napi_set_named_property(env, obj, key, v) != napi_ok) return NULL;
  return obj;
}

static napi_value js_info(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], obj, flag;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Handle *h = argc ? handle_arg(env, argv[0]) : NULL;
  if (!h) return NULL;
  CHECK(napi_create_object(env, &obj));
  if (!set_int(env, obj, "width", h->src.image_width) || !set_int(env, obj, "height", h->src.image_height) ||
      !set_int(env, obj, "components", h->src.num_components) || !set_int(env, obj, "mcuWidth", h->mcu_w) ||
      !set_int(env, obj, "mcuHeight", h->mcu_h) || !set_int(env, obj, "restartInterval", h->src.restart_interval))
    return throw_coded(env, "ERR_JPEG_ADDON", "Node-API call failed");
  CHECK(napi_get_boolean(env, h->src.progressive_mode, &flag));
  CHECK(napi_set_named_property(env, obj, "progressive", flag));
  return obj;
}

/* `count` integer arguments from argv[from]; 0 with a TypeError saying `message` otherwise. */
static int int_args(napi_env env, napi_value *argv, int from, int count, int *out, const char *message) {
  for (int k = 0; k < count; k++) {
    double d;
    if (napi_get_value_double(env, argv[from + k], &d) != napi_ok || !isfinite(d) || d < -1e9 || d > 1e9) {
      napi_throw_type_error(env, "ERR_INVALID_ARG_TYPE", message);
      return 0;
    }
    out[k] = (int)floor(d);
  }
  return 1;
}

/*
 * What every edit takes first, `handle, x, y, width, height`, and `want` arguments in all (argv
 * holds them); NULL with an exception pending when they are missing or wrong (`usage` names them).
 */
static Handle *edit_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *usage, int rect[4]) {
  size_t argc = want;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok) return throw_coded(env, "ERR_JPEG_ADDON", "Node-API call failed"), NULL;
  if (argc < want) return throw_coded(env, "ERR_INVALID_ARG_TYPE", usage), NULL;
  Handle *h = handle_arg(env, argv[0]);
  if (!h || !int_args(env, argv, 1, 4, rect, "x, y, width and height must be numbers")) return NULL;
  return h;
}

/*
 * A Buffer argument of exactly `size` bytes, or (when `optional`) null or undefined, giving NULL;
 * 0 with an exception pending otherwise (`name` and `holds` say what it must be).
 */
static int buffer_arg(napi_env env, napi_value v, size_t size, int optional, const char *name, const char *holds, void **data) {
  char message[128];
  napi_valuetype type;
  *data = NULL;
  if (napi_typeof(env, v, &type) != napi_ok) return throw_coded(env, "ERR_JPEG_ADDON", "Node-API call failed"), 0;
  if (optional && (type == napi_null || type == napi_undefined)) return 1;
  bool is_buffer = false;
  size_t got;
  if (napi_is_buffer(env, v, &is_buffer) != napi_ok || !is_buffer || napi_get_buffer_info(env, v, data, &got) != napi_ok) {
    snprintf(message, sizeof message, "%s must be a Buffer%s", name, optional ? " or null" : "");
    return throw_coded(env, "ERR_INVALID_ARG_TYPE", message), 0;
  }
  if (got != size) {
    snprintf(message, sizeof message, "%s must hold %s", name, holds);
    return throw_coded(env, "ERR_INVALID_ARG_VALUE", message), 0;
  }
  if (!*data) *data = mask_empty; /* an empty Buffer: a valid pointer, never read */
  return 1;
}

static napi_value js_read(napi_env env, napi_callback_info info) {
  napi_value argv[5], obj, buffer;
  int a[4];
  Handle *h = edit_args(env, info, 5, argv, "read(handle, x, y, width, height)", a);
  if (!h) return NULL;
  Region r = align(h, a[0], a[1], a[2], a[3]);
  size_t bytes = (size_t)(r.x1 - r.x0) * (r.y1 - r.y0) * 3;
  void *pixels;
  CHECK(napi_create_buffer(env, bytes, &pixels, &buffer));
  if (setjmp(h->err.jump)) return throw_coded(env, "ERR_JPEG_ADDON", h->err.message);
  if (bytes && !decode_region(h, &r, pixels)) return throw_coded(env, "ERR_JPEG_MEMORY", "out of memory");
  free(h->last_pixels);
  h->last_pixels = bytes ? malloc(bytes) : NULL;
  if (bytes && !h->last_pixels) return throw_coded(env, "ERR_JPEG_MEMORY", "out of memory");
  if (bytes) memcpy(h->last_pixels, pixels, bytes);
  h->last = r;
  CHECK(napi_create_object(env, &obj));
  if (!set_int(env, obj, "x", r.x0) || !set_int(env, obj, "y", r.y0) || !set_int(env, obj, "width", r.x1 - r.x0) || !set_int(env, obj, "height", r.y1 - r.y0))
    return throw_coded(env, "ERR_JPEG_ADDON", "Node-API call failed");
  CHECK(napi_set_named_property(env, obj, "pixels", buffer));
  return obj;
}

static napi_value js_write(napi_env env, napi_callback_info info) {
  napi_value argv[6], result;
  int a[4];
  Handle *h = edit_args(env, info, 6, argv, "write(handle, x, y, width, height, pixels)", a);
  if (!h) return NULL;
  Region r = align(h, a[0], a[1], a[2], a[3]);
  if (r.x0 != a[0] || r.y0 != a[1] || r.x1 - r.x0 != a[2] || r.y1 - r.y0 != a[3])
    return throw_coded(env, "ERR_INVALID_ARG_VALUE", "write() takes a rectangle exactly as read() returned it");
  if (!h->last_pixels || memcmp(&r, &h->last, sizeof r) != 0)
    return throw_coded(env, "ERR_INVALID_ARG_VALUE", "write() takes the rectangle the last read() returned");
  size_t bytes = (size_t)a[2] * a[3] * 3;
  void *pixels;
  if (!buffer_arg(env, argv[5], bytes, 0, "pixels", "width x height BGR pixels", &pixels)) return NULL;
  long rewritten = 0;
  if (bytes) {
    if (setjmp(h->err.jump)) return throw_coded(env, "ERR_JPEG_ADDON", h->err.message);
    rewritten = encode_region(h, &r, h->last_pixels, pixels);
  }
  /* The coefficients changed: a second write of this rectangle needs a fresh read. */
  free(h->last_pixels);
  h->last_pixels = NULL;
  CHECK(napi_create_int64(env, rewritten, &result));
  return result;
}

/*
 * What fill, pixelate and blur take first: `handle, x, y, width, height, mask` (the rectangle
 * inside the image; the mask width x height bytes of opacity, 'ellipse' for the inscribed ellipse
 * (ellipse_runs), or null for all of it), then `want` - 6 of their own.
 */
static Handle *paint_args(napi_env env, napi_callback_info info, size_t want, napi_value *argv, const char *usage, Region *f, void **mask, int *ellipse) {
  int a[4];
  Handle *h = edit_args(env, info, want, argv, usage, a);
  if (!h) return NULL;
  int W = (int)h->src.image_width, H = (int)h->src.image_height;
  if (a[0] < 0 || a[1] < 0 || a[2] < 0 || a[3] < 0 || a[0] + a[2] > W || a[1] + a[3] > H)
    return throw_coded(env, "ERR_INVALID_ARG_VALUE", "the rectangle must be inside the image"), NULL;
  char shape[8];
  size_t length = 0;
  *ellipse = napi_get_value_string_utf8(env, argv[5], shape, sizeof shape, &length) == napi_ok && length == 7 && memcmp(shape, "ellipse", 7) == 0;
  if (*ellipse) *mask = NULL;
  else if (!buffer_arg(env, argv[5], (size_t)a[2] * a[3], 1, "mask", "width x height bytes (or 'ellipse')", mask)) return NULL;
  *f = (Region){a[0], a[1], a[0] + a[2], a[1] + a[3]};
  return h;
}

/*
 * The ellipse inscribed in a w x h rectangle as a mask (Mask's runs: each row's pixels inside it), row by row: the
 * pixels whose centres lie within half a pixel of it (centre ((w - 1) / 2, (h - 1) / 2), semi-axes
 * w / 2 + 1/2 and h / 2 + 1/2), which is how OpenCV's filled ellipse (output/image.ts ellipseMask,
 * what a re-encode fills) comes out, give or take a partial ring of edge pixels (0.6% of its pixels
 * at 20x20, 1.4% at 61x47, 0.1-0.3% from 100x140 to 1000x700; the lossless test checks it). Drawn here, so that no mask crosses into
 * JavaScript: a Buffer of 200 kB per face made V8 collect garbage every few 12 MP requests.
 */
static int *ellipse_runs(int w, int h) {
  int *runs = calloc(2 * (size_t)h + 1, sizeof(int));
  if (!runs) return NULL;
  double cx = (w - 1) / 2.0, cy = (h - 1) / 2.0, a = w / 2.0 + 0.5, b = h / 2.0 + 0.5;
  for (int y = 0; y < h; y++) {
    double dy = (y - cy) / b, reach = 1.0 - dy * dy;
    if (reach < 0) continue;
    double half = a * sqrt(reach);
    int x0 = (int)ceil(cx - half), x1 = (int)floor(cx + half);
    if (x0 < 0) x0 = 0;
    if (x1 > w - 1) x1 = w - 1;
    if (x1 >= x0) {
      runs[2 * y] = x0;
      runs[2 * y + 1] = x1 + 1;
    }
  }
  return runs;
}

/* How far a box's line of `thickness` reaches from the outline: opacity 255 x clamp(reach - d, 0, 1) at distance d. */
static double box_reach(int thickness) {
  return (thickness + 1) / 2 + 1.21;
}

static unsigned char box_opacity(double reach, double d) {
  double opacity = reach - d;
  return opacity <= 0 ? 0 : opacity >= 1 ? 255 : (unsigned char)(opacity * 255 + 0.5);
}

/*
 * A box's lines as opacity over `f` (box[0..3]: x, y, width, height; box[4]: the lines' thickness
 * t): the outline through the centres of the box's edge pixels, stroked with round outer corners,
 * each pixel's opacity 255 x clamp(ceil(t / 2) + 1.21 - d, 0, 1) for its centre's distance d to
 * the outline: wholly within ceil(t / 2), a fifth one pixel further, which is what OpenCV's
 * anti-aliased rectangle (drawBoxes, LINE_AA) gives across its lines (measured for t = 2, 3, 5,
 * 12: 255 then 53-58); its corners differ by a few pixels (the lossless test compares the two
 * routes). Drawn here, so no mask crosses into JavaScript.
 */
static unsigned char *box_mask(const Region *f, const int *box) {
  int w = f->x1 - f->x0, h = f->y1 - f->y0;
  unsigned char *mask = calloc((size_t)w * h + 1, 1);
  if (!mask) return NULL;
  int x0 = box[0], y0 = box[1], x1 = box[0] + box[2] - 1, y1 = box[1] + box[3] - 1;
  double reach = box_reach(box[4]);
  int span = (int)ceil(reach); /* a pixel span or more from the outline is untouched */
  /* The columns of [x0, x1] in f, and the columns within reach outside it on either side. */
  int a0 = x0 > f->x0 ? x0 : f->x0, a1 = x1 < f->x1 - 1 ? x1 : f->x1 - 1;
  for (int y = 0; y < h; y++) {
    int py = f->y0 + y, dy = py < y0 ? y0 - py : py > y1 ? py - y1 : 0;
    if (dy >= span) continue;
    unsigned char *row = mask + (size_t)y * w - f->x0; /* row[px] */
    /* Along the columns of the box: the distance to the top or bottom line (between them, the nearer one). */
    unsigned char along = box_opacity(reach, dy ? dy : (py - y0 < y1 - py ? py - y0 : y1 - py));
    if (along && a1 >= a0) memset(row + a0, along, (size_t)(a1 - a0 + 1));
    if (!dy) /* between the top and bottom lines, the left and right lines within reach: the nearest line wins */
      for (int px = a0; px <= a1; px++) {
        int d = px - x0 < x1 - px ? px - x0 : x1 - px;
        if (d >= span) px = x1 - span; /* on to the right line's reach */
        else {
          unsigned char o = box_opacity(reach, d);
          if (o > row[px]) row[px] = o;
        }
      }
    /* Beyond the left and right columns: the distance to the nearest corner (straight across between the top and bottom lines). */
    for (int dx = 1; dx < span; dx++) {
      unsigned char o = box_opacity(reach, sqrt((double)dx * dx + (double)dy * dy));
      if (x0 - dx >= f->x0 && x0 - dx < f->x1) row[x0 - dx] = o;
      if (x1 + dx >= f->x0 && x1 + dx < f->x1) row[x1 + dx] = o;
    }
  }
  return mask;
}

/* Paints `f` under `mask` as `setup` prepares (from the coefficients as they are, before any change); the number of blocks rewritten, or NULL with an exception pending. */
typedef int (*PaintSetup)(Handle *h, const Region *aligned, const void *arg, Paint *p);

/* Which mask the addon draws itself: none (the caller's), the inscribed ellipse, a box's lines. */
typedef enum { OWN_NONE, OWN_ELLIPSE, OWN_BOX } OwnMask;

static napi_value paint(napi_env env, Handle *h, const Region *f, const unsigned char *mask, OwnMask own, const int *box, PaintSetup setup, const void *arg) {
  /* The coefficients change: a write() of an earlier read would compare against stale pixels. */
  free(h->last_pixels);
  h->last_pixels = NULL;
  long rewritten = 0;
  if (f->x1 > f->x0 && f->y1 > f->y0) {
    Paint *p = calloc(1, sizeof(Paint)); /* on the heap: it outlives a longjmp intact */
    if (!p) return throw_coded(env, "ERR_JPEG_MEMORY", "out of memory");
    if (own != OWN_NONE) {
      if (own == OWN_ELLIPSE) p->own_runs = ellipse_runs(f->x1 - f->x0, f->y1 - f->y0);
      else p->own_mask = box_mask(f, box);
      if (!p->own_mask && !p->own_runs) {
        paint_free(p);
        return throw_coded(env, "ERR_JPEG_MEMORY", "out of memory");
      }
    }
    if (setjmp(h->err.jump)) {
      paint_free(p);
      return throw_coded(env, "ERR_JPEG_ADDON", h->err.message);
    }
    /* A box's inside beyond its lines' reach (box_mask): its MCUs need no look. */
    Region inside, *hole = NULL;
    if (own == OWN_BOX) {
      int reach = (int)ceil(box_reach(box[4]));
      inside = (Region){box[0] + reach, box[1] + reach, box[0] + box[2] - reach, box[1] + box[3] - reach};
      hole = &inside;
    }
    Region r = align(h, f->x0, f->y0, f->x1 - f->x0, f->y1 - f->y0);
    if (!setup(h, &r, arg, p)) {
      paint_free(p);
      return throw_coded(env, "ERR_JPEG_MEMORY", "out of memory");
    }
    Mask m = {own == OWN_NONE ? mask : p->own_mask, p->own_runs, f->x1 - f->x0};
    rewritten = paint_region(h, f, &m, hole, p);
    paint_free(p);
  }
  napi_value result;
  CHECK(napi_create_int64(env, rewritten, &result));
  return result;
}

static int flat_setup(Handle *h, const Region *r, const void *arg, Paint *p) {
  (void)r;
  p->kind = PAINT_FLAT;
  for (int c = 0; c < h->src.num_components; c++) p->flat[c] = colour_sample(c, h->src.num_components, arg);
  return 1;
}

static int cells_arg_setup(Handle *h, const Region *r, const void *arg, Paint *p) {
  const int *cell = arg;
  return cells_setup(h, r, cell[0], cell[1], p);
}

static int field_arg_setup(Handle *h, const Region *r, const void *arg, Paint *p) {
  return field_setup(h, r, *(const double *)arg, p);
}

static napi_value js_fill(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  Region f;
  void *mask;
  int colour[3], ellipse;
  Handle *h = paint_args(env, info, 9, argv, "fill(handle, x, y, width, height, mask, b, g, r)", &f, &mask, &ellipse);
  if (!h || !int_args(env, argv, 6, 3, colour, "b, g and r must be numbers")) return NULL;
  for (int k = 0; k < 3; k++)
    if (colour[k] < 0 || colour[k] > 255) return throw_coded(env, "ERR_INVALID_ARG_VALUE", "b, g and r are 0-255");
  return paint(env, h, &f, mask, ellipse ? OWN_ELLIPSE : OWN_NONE, NULL, flat_setup, colour);
}

static napi_value js_pixelate(napi_env env, napi_callback_info info) {
  napi_value argv[8];
  Region f;
  void *mask;
  int cell[2], ellipse;
  Handle *h = paint_args(env, info, 8, argv, "pixelate(handle, x, y, width, height, mask, cellWidth, cellHeight)", &f, &mask, &ellipse);
  if (!h || !int_args(env, argv, 6, 2, cell, "cellWidth and cellHeight must be numbers")) return NULL;
  if (cell[0] < h->mcu_w || cell[1] < h->mcu_h || cell[0] % h->mcu_w || cell[1] % h->mcu_h)
    return throw_coded(env, "ERR_INVALID_ARG_VALUE", "cellWidth and cellHeight must be whole MCUs (info's mcuWidth and mcuHeight)");
  return paint(env, h, &f, mask, ellipse ? OWN_ELLIPSE : OWN_NONE, NULL, cells_arg_setup, cell);
}

static napi_value js_box(napi_env env, napi_callback_info info) {
  napi_value argv[9];
  int a[4], more[4];
  Handle *h = edit_args(env, info, 9, argv, "box(handle, x, y, width, height, thickness, b, g, r)", a);
  if (!h || !int_args(env, argv, 5, 4, more, "thickness, b, g and r must be numbers")) return NULL;
  if (a[2] < 1 || a[3] < 1 || more[0] < 1 || more[0] > 1000) return throw_coded(env, "ERR_INVALID_ARG_VALUE", "width and height must be 1 or more, thickness 1-1000");
  for (int k = 1; k < 4; k++)
    if (more[k] < 0 || more[k] > 255) return throw_coded(env, "ERR_INVALID_ARG_VALUE", "b, g and r are 0-255");
  /* The pixels the lines reach (opacity above zero: within ceil(t / 2) + 1 of the outline), clipped to the image. */
  int reach = (more[0] + 1) / 2 + 1, W = (int)h->src.image_width, H = (int)h->src.image_height;
  long x0 = (long)a[0] - reach, y0 = (long)a[1] - reach, x1 = (long)a[0] + a[2] + reach, y1 = (long)a[1] + a[3] + reach;
  Region f = {x0 < 0 ? 0 : (int)x0, y0 < 0 ? 0 : (int)y0, x1 > W ? W : (int)x1, y1 > H ? H : (int)y1};
  if (f.x1 < f.x0) f.x1 = f.x0;
  if (f.y1 < f.y0) f.y1 = f.y0;
  int box[5] = {a[0], a[1], a[2], a[3], more[0]};
  return paint(env, h, &f, NULL, OWN_BOX, box, flat_setup, more + 1);
}

static napi_value js_blur(napi_env env, napi_callback_info info) {
  napi_value argv[7];
  Region f;
  void *mask;
  double sigma;
  int ellipse;
  Handle *h = paint_args(env, info, 7, argv, "blur(handle, x, y, width, height, mask, sigma)", &f, &mask, &ellipse);
  if (!h) return NULL;
  if (napi_get_value_double(env, argv[6], &sigma) != napi_ok || !isfinite(sigma)) return throw_coded(env, "ERR_INVALID_ARG_TYPE", "sigma must be a number");
  if (sigma < 0 || sigma > 1e5) return throw_coded(env, "ERR_INVALID_ARG_VALUE", "sigma must be 0-100000 pixels");
  return paint(env, h, &f, mask, ellipse ? OWN_ELLIPSE : OWN_NONE, NULL, field_arg_setup, &sigma);
}

/* Copies a Huffman table of the source into the destination's slot (allocated when empty). */
static void copy_huff(j_compress_ptr dst, JHUFF_TBL **slot, const JHUFF_TBL *from) {
  if (!from) return;
  if (!*slot) *slot = jpeg_alloc_huff_table((j_common_ptr)dst);
  memcpy((*slot)->bits, from->bits, sizeof from->bits);
  memcpy((*slot)->huffval, from->huffval, sizeof from->huffval);
  (*slot)->sent_table = FALSE;
}

/* Whether a table codes every symbol 8-bit data can need (DC: categories 0-11; AC: EOB, ZRL and
 * each run 0-15 with size 1-10), as the standard tables do: then any recomputed block can use it. */
static int huff_complete(const JHUFF_TBL *t, int ac) {
  if (!t) return 0;
  unsigned char has[256] = {0};
  int count = 0;
  for (int l = 1; l <= 16; l++) count += t->bits[l];
  if (count > 256) return 0;
  for (int k = 0; k < count; k++) has[t->huffval[k]] = 1;
  if (!ac) {
    for (int v = 0; v <= 11; v++) if (!has[v]) return 0;
    return 1;
  }
  if (!has[0x00] || !has[0xf0]) return 0;
  for (int run = 0; run < 16; run++)
    for (int size = 1; size <= 10; size++) if (!has[(run << 4) | size]) return 0;
  return 1;
}

static int tables_complete(const Handle *h) {
  for (int c = 0; c < h->src.num_components; c++) {
    const jpeg_component_info *comp = &h->src.comp_info[c];
    if (!huff_complete(h->src.dc_huff_tbl_ptrs[comp->dc_tbl_no], 0) || !huff_complete(h->src.ac_huff_tbl_ptrs[comp->ac_tbl_no], 1)) return 0;
  }
  return 1;
}

/* The symbols a table codes. */
static void huff_symbols(const JHUFF_TBL *t, unsigned char has[256]) {
  memset(has, 0, 256);
  if (!t) return;
  int count = 0;
  for (int l = 1; l <= 16; l++) count += t->bits[l];
  for (int k = 0; k < count && k < 256; k++) has[t->huffval[k]] = 1;
}

/* The bits of a coefficient's magnitude: its DC difference's or AC's Huffman category. */
static int category(int v) {
  unsigned int a = (unsigned int)(v < 0 ? -v : v);
  return a ? 32 - __builtin_clz(a) : 0;
}

/* Zigzag order: the k-th coefficient coded is block[zigzag[k]]; block[j] is coded unzigzag[j]-th. */
static const unsigned char zigzag[64] = {0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
                                         41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
                                         30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63};
static unsigned char unzigzag[64]; /* init */

/*
 * Whether a block no edit touched could need a symbol its table lacks. Only a malformed file has
 * one: its tables hold symbols past 8-bit data's categories (coefficients past them, which libjpeg
 * decodes), or a zero-run passes the 63rd coefficient (libjpeg puts the value there, and the block
 * then codes as a run the file never coded). Unchanged blocks (the changed ones are
 * changed_symbols') whose 63rd coefficient is set are checked for the symbols that code it, where
 * the tables are not complete. Such a file gets tables optimised anew (statistics of every block;
 * libjpeg refuses a coefficient out of range).
 */
static int untouched_need_more(Handle *h) {
  int n = h->src.num_components;
  for (int c = 0; c < n; c++) {
    const jpeg_component_info *comp = &h->src.comp_info[c];
    const JHUFF_TBL *dc = h->src.dc_huff_tbl_ptrs[comp->dc_tbl_no], *ac = h->src.ac_huff_tbl_ptrs[comp->ac_tbl_no];
    for (int which = 0; which < 2; which++) {
      const JHUFF_TBL *t = which ? ac : dc;
      if (!t) continue;
      int count = 0;
      for (int l = 1; l <= 16; l++) count += t->bits[l];
      for (int k = 0; k < count && k < 256; k++)
        if (which ? (t->huffval[k] & 15) > 10 : t->huffval[k] > 11) return 1;
    }
  }
  if (tables_complete(h)) return 0;
  for (int c = 0; c < n; c++) {
    const jpeg_component_info *comp = &h->src.comp_info[c];
    unsigned char has[256];
    huff_symbols(h->src.ac_huff_tbl_ptrs[comp->ac_tbl_no], has);
    int bw = n == 1 ? 1 : comp->h_samp_factor, bh = n == 1 ? 1 : comp->v_samp_factor; /* blocks per MCU */
    for (JDIMENSION by = 0; by < comp->height_in_blocks; by++) {
      JBLOCKROW row = (*h->src.mem->access_virt_barray)((j_common_ptr)&h->src, h->coefs[c], by, 1, FALSE)[0];
      const unsigned char *changed = h->changed + (size_t)(by / bh) * h->mcus_x;
      for (JDIMENSION bx = 0; bx < comp->width_in_blocks; bx++) {
        const JCOEF *b = row[bx];
        if (!b[63] || changed[bx / bw]) continue;
        int k = 62;
        while (k > 0 && !b[zigzag[k]]) k--;
        int run = 62 - k, size = category(b[63]); /* zeros before the 63rd; its bits */
        if (size > 10 || (run >= 16 && !has[0xf0]) || !has[((run & 15) << 4) | size]) return 1;
      }
    }
  }
  return 0;
}

/*
 * The Huffman symbols the output needs beyond those the file already codes, per component: the
 * DC categories and AC run/size symbols of the blocks of the MCUs an edit changed, of the MCUs
 * holding dummy blocks, and of the MCU after each (its first DC is coded as the difference from
 * the one before), in the output's
 * scan order, plus DC difference 0 and end-of-block (a dummy block past the image's edge codes
 * them). A baseline file of one scan is written as one scan again, so every other block codes
 * with symbols its table has. 0 (nothing gathered) for a file of several scans or a coefficient
 * out of 8-bit range.
 */
static int changed_symbols(Handle *h, unsigned char dc[][256], unsigned char ac[][256]) {
  int n = h->src.num_components;
  if (h->src.input_scan_number != 1 || h->src.comps_in_scan != n) return 0;
  int bw[MAX_COMPS_IN_SCAN], bh[MAX_COMPS_IN_SCAN]; /* blocks per MCU across and down */
  for (int c = 0; c < n; c++) {
    memset(dc[c], 0, 256);
    memset(ac[c], 0, 256);
    dc[c][0] = ac[c][0x00] = 1;
    bw[c] = n == 1 ? 1 : h->src.comp_info[c].h_samp_factor;
    bh[c] = n == 1 ? 1 : h->src.comp_info[c].v_samp_factor;
  }
  /* Blocks past the image's edge in the last MCU column or row (an interleaved scan's dummies):
   * the output codes them as libjpeg does (the DC of the block before, no AC), which the input's
   * encoder need not have done, so the real blocks after them in their MCU and the next MCU's
   * first ones may code other DC differences: those MCUs are checked as if changed. */
  int right_dummies = 0, bottom_dummies = 0;
  for (int c = 0; n > 1 && c < n; c++) {
    if ((long)h->src.comp_info[c].width_in_blocks < (long)h->mcus_x * bw[c]) right_dummies = 1;
    if ((long)h->src.comp_info[c].height_in_blocks < (long)h->mcus_y * bh[c]) bottom_dummies = 1;
  }
  /* The MCU grid of a grayscale file is its blocks, as is the changed map's (8-pixel MCUs). */
  long interval = h->src.restart_interval, m = 0;
  int changed_before = 0, last_known = 0, last[MAX_COMPS_IN_SCAN] = {0};
  for (int my = 0; my < h->mcus_y; my++) {
    JBLOCKROW rows[MAX_COMPS_IN_SCAN][MAX_SAMP_FACTOR];
    int fetched = 0;
    for (int mx = 0; mx < h->mcus_x; mx++, m++) {
      int now = h->changed[m];
      int first = interval ? m % interval == 0 : m == 0; /* its DC predictions start from 0 */
      int edge = (right_dummies && mx == h->mcus_x - 1) || (bottom_dummies && my == h->mcus_y - 1);
      int check = now || edge || (changed_before && !first);
      changed_before = now || edge;
      if (!check) {
        last_known = 0;
        continue;
      }
      if (!fetched) {
        for (int c = 0; c < n; c++)
          for (int y = 0; y < bh[c] && my * bh[c] + y < (int)h->src.comp_info[c].height_in_blocks; y++)
            rows[c][y] = (*h->src.mem->access_virt_barray)((j_common_ptr)&h->src, h->coefs[c], (JDIMENSION)(my * bh[c] + y), 1, FALSE)[0];
        fetched = 1;
      }
      for (int c = 0; c < n; c++) {
        const jpeg_component_info *comp = &h->src.comp_info[c];
        /* The DC before this MCU's first block: the previous MCU's last real block's (a dummy repeats the one before it). */
        int prev = last[c];
        if (first) prev = 0;
        else if (!last_known) {
          int pmx = (int)((m - 1) % h->mcus_x), pmy = (int)((m - 1) / h->mcus_x);
          int by = pmy * bh[c] + bh[c] - 1, bx = pmx * bw[c] + bw[c] - 1; /* its last block, or the last real one before dummies */
          if (by >= (int)comp->height_in_blocks) by = (int)comp->height_in_blocks - 1;
          if (bx >= (int)comp->width_in_blocks) bx = (int)comp->width_in_blocks - 1;
          prev = (*h->src.mem->access_virt_barray)((j_common_ptr)&h->src, h->coefs[c], (JDIMENSION)by, 1, FALSE)[0][bx][0];
        }
        if (now == CHANGED_DC) {
          /* Set by paint_run: every block of the component one DC alone (difference 0 after the first), end-of-block. */
          int cat = category(rows[c][0][mx * bw[c]][0] - prev);
          if (cat > 11) return 0;
          dc[c][cat] = 1;
          last[c] = rows[c][0][mx * bw[c]][0];
          continue;
        }
        for (int y = 0; y < bh[c] && my * bh[c] + y < (int)comp->height_in_blocks; y++)
          for (int x = 0; x < bw[c] && mx * bw[c] + x < (int)comp->width_in_blocks; x++) {
            const JCOEF *block = rows[c][y][mx * bw[c] + x];
            int cat = category(block[0] - prev);
            prev = block[0];
            if (cat > 11) return 0;
            dc[c][cat] = 1;
            /* The coded ACs, by the zigzag positions that are not zero: each a run of zeros (in
             * 16s: ZRL) and a size. */
            uint64_t nonzero = 0, four;
            for (int i = 0; i < 16; i++) { /* four coefficients at a time: most are zero */
              memcpy(&four, block + 4 * i, sizeof four);
              if (four)
                for (int j = i ? 4 * i : 1; j < 4 * i + 4; j++) nonzero |= (uint64_t)(block[j] != 0) << unzigzag[j];
            }
            for (int at = 0; nonzero; nonzero &= nonzero - 1) {
              int k = __builtin_ctzll(nonzero), run = k - at - 1;
              at = k;
              for (; run > 15; run -= 16) ac[c][0xf0] = 1;
              cat = category(block[zigzag[k]]);
              if (cat > 10) return 0;
              ac[c][(run << 4) | cat] = 1;
            }
          }
        last[c] = prev;
      }
      last_known = 1;
    }
  }
  return 1;
}

/*
 * The file's table `from` with the symbols `need` adds, as a table: each symbol it has weighted by
 * its code's length (2^(17 - length), so that Huffman's construction gives those lengths back),
 * each added one by 1 (rarer than any), through libjpeg's own construction of an optimal table
 * (jpeg_gen_optimal_table: lengths limited to 16 bits, one code reserved). Untouched blocks then
 * cost about the bits they did, and no second pass over every block gathers statistics.
 */
void jpeg_gen_optimal_table(j_compress_ptr cinfo, JHUFF_TBL *htbl, long freq[]); /* libjpeg's, exported (LIBJPEG_6.2) but in no installed header */

static void extend_table(j_compress_ptr dst, JHUFF_TBL **slot, const JHUFF_TBL *from, const unsigned char need[256]) {
  long freq[257];
  memset(freq, 0, sizeof freq);
  int k = 0;
  for (int l = 1; l <= 16; l++)
    for (int i = 0; i < from->bits[l] && k < 256; i++, k++) freq[from->huffval[k]] = 1L << (17 - l);
  for (int sym = 0; sym < 256; sym++)
    if (need[sym] && !freq[sym]) freq[sym] = 1;
  if (!*slot) *slot = jpeg_alloc_huff_table((j_common_ptr)dst);
  jpeg_gen_optimal_table(dst, *slot, freq);
  (*slot)->sent_table = FALSE;
}

/*
 * Where save writes: one buffer, at first about the input's size plus a quarter (the output is
 * near the input's size), doubled when full, so that a 12 MP file is not copied through the ten
 * doublings from 4 kB that jpeg_mem_dest makes.
 */
typedef struct {
  struct jpeg_destination_mgr pub;
  unsigned char *data;
  size_t size;
} Destination;

static void destination_init(j_compress_ptr cinfo) {
  Destination *d = (Destination *)cinfo->dest;
  d->pub.next_output_byte = d->data;
  d->pub.free_in_buffer = d->size;
}

/* The buffer is full (libjpeg's contract): twice the room. */
static boolean destination_grow(j_compress_ptr cinfo) {
  Destination *d = (Destination *)cinfo->dest;
  unsigned char *more = realloc(d->data, 2 * d->size);
  if (!more) ERREXIT1(cinfo, JERR_OUT_OF_MEMORY, 0);
  d->data = more;
  d->pub.next_output_byte = more + d->size;
  d->pub.free_in_buffer = d->size;
  d->size *= 2;
  return TRUE;
}

static void destination_term(j_compress_ptr cinfo) {
  (void)cinfo;
}

/* One attempt at writing the coefficients into `out` (its data NULL and size the first room); 0 with err->message set when libjpeg failed. */
/* Which Huffman tables save writes a baseline file with. */
typedef enum {
  TABLES_KEEP,     /* the file's own: complete, or coding every symbol the output needs */
  TABLES_EXTEND,   /* the file's own with the symbols the changed blocks need added (extend_table) */
  TABLES_OPTIMIZE, /* optimised for the output by libjpeg (a pass over every block gathers statistics first) */
} Tables;

static int write_jpeg(Handle *h, Tables tables, unsigned char need_dc[][256], unsigned char need_ac[][256], Destination *out, ErrorManager *err) {
  struct jpeg_compress_struct dst;
  jpeg_scan_info scans[1 + MAX_COMPS_IN_SCAN]; /* a progressive file's */
  memset(&dst, 0, sizeof dst);
  memset(scans, 0, sizeof scans);
  dst.err = (struct jpeg_error_mgr *)err;
  install_errors(err);
  if (setjmp(err->jump)) {
    jpeg_destroy_compress(&dst);
    free(out->data);
    out->data = NULL;
    return 0;
  }
  jpeg_create_compress(&dst);
  out->data = malloc(out->size);
  if (!out->data) ERREXIT1(&dst, JERR_OUT_OF_MEMORY, 0);
  out->pub.init_destination = destination_init;
  out->pub.empty_output_buffer = destination_grow;
  out->pub.term_destination = destination_term;
  dst.dest = &out->pub;
  jpeg_copy_critical_parameters(&h->src, &dst);
  dst.restart_interval = h->src.restart_interval;
  if (h->src.progressive_mode) {
    /* The shortest progression: every component's DC, then each component's ACs in one scan (no
     * successive approximation). libjpeg optimises a progressive file's tables itself, a pass over
     * every scan first; jpeg_simple_progression's ten scans (for YCbCr) cost 12 MP, 40 fills 2.6x
     * the time to save (80 against 30 ms) and 2% more bytes. */
    dst.scan_info = scans;
    dst.num_scans = 1 + dst.num_components;
    scans[0].comps_in_scan = dst.num_components;
    for (int c = 0; c < dst.num_components; c++) {
      scans[0].component_index[c] = c;
      scans[1 + c].comps_in_scan = 1;
      scans[1 + c].component_index[0] = c;
      scans[1 + c].Ss = 1;
      scans[1 + c].Se = 63;
    }
  } else if (tables != TABLES_OPTIMIZE) {
    for (int i = 0; i < NUM_HUFF_TBLS; i++) {
      copy_huff(&dst, &dst.dc_huff_tbl_ptrs[i], h->src.dc_huff_tbl_ptrs[i]);
      copy_huff(&dst, &dst.ac_huff_tbl_ptrs[i], h->src.ac_huff_tbl_ptrs[i]);
    }
    for (int c = 0; c < dst.num_components; c++) {
      dst.comp_info[c].dc_tbl_no = h->src.comp_info[c].dc_tbl_no;
      dst.comp_info[c].ac_tbl_no = h->src.comp_info[c].ac_tbl_no;
    }
    if (tables == TABLES_EXTEND)
      for (int i = 0; i < NUM_HUFF_TBLS; i++)
        for (int ac = 0; ac < 2; ac++) {
          /* What the components coded with this table need, and whether the file's table has it all. */
          const JHUFF_TBL *from = ac ? h->src.ac_huff_tbl_ptrs[i] : h->src.dc_huff_tbl_ptrs[i];
          unsigned char need[256] = {0}, has[256];
          int used = 0, missing = 0;
          for (int c = 0; c < dst.num_components; c++)
            if ((ac ? h->src.comp_info[c].ac_tbl_no : h->src.comp_info[c].dc_tbl_no) == i) {
              used = 1;
              for (int sym = 0; sym < 256; sym++) need[sym] |= ac ? need_ac[c][sym] : need_dc[c][sym];
            }
          if (!used || !from) continue;
          huff_symbols(from, has);
          for (int sym = 0; sym < 256; sym++) missing |= need[sym] && !has[sym];
          if (missing) extend_table(&dst, ac ? &dst.ac_huff_tbl_ptrs[i] : &dst.dc_huff_tbl_ptrs[i], from, need);
        }
    dst.optimize_coding = FALSE;
  } else {
    dst.optimize_coding = TRUE;
  }
  jpeg_write_coefficients(&dst, h->coefs);
  jpeg_finish_compress(&dst);
  jpeg_destroy_compress(&dst);
  out->size -= out->pub.free_in_buffer; /* what was written */
  return 1;
}

static void free_output(napi_env env, void *data, void *hint) {
  (void)env;
  (void)hint;
  free(data);
}

static napi_value js_save(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1], buffer;
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  Handle *h = argc ? handle_arg(env, argv[0]) : NULL;
  if (!h) return NULL;
  ErrorManager err;
  Destination out;
  memset(&out, 0, sizeof out);
  out.size = h->size + h->size / 4 + 65536;
  /* The file's own tables where they code every symbol, or where one pass can extend them with
   * what the changed blocks need (a table optimised for the file may lack a symbol a recomputed
   * block needs, and libjpeg-turbo would then write a corrupt code). */
  unsigned char need_dc[MAX_COMPS_IN_SCAN][256], need_ac[MAX_COMPS_IN_SCAN][256];
  if (setjmp(h->err.jump)) return throw_coded(env, "ERR_JPEG_ADDON", h->err.message); /* reading the coefficients */
  Tables tables = h->src.progressive_mode || untouched_need_more(h) ? TABLES_OPTIMIZE
                  : tables_complete(h)    ? TABLES_KEEP
                  : changed_symbols(h, need_dc, need_ac) ? TABLES_EXTEND
                                                          : TABLES_OPTIMIZE;
  /* A table the decoder took but the encoder refuses (symbols twice over, in a damaged file): optimised anew. */
  if (!write_jpeg(h, tables, need_dc, need_ac, &out, &err) && (tables == TABLES_OPTIMIZE || !write_jpeg(h, TABLES_OPTIMIZE, NULL, NULL, &out, &err)))
    return throw_coded(env, "ERR_JPEG_ADDON", err.message);
  /* Handed to JavaScript as it is (freed with the Buffer), the room not written given back first. */
  unsigned char *fitted = realloc(out.data, out.size ? out.size : 1);
  if (fitted) out.data = fitted;
  napi_status status = napi_create_external_buffer(env, out.size, out.data, free_output, NULL, &buffer);
  if (status == napi_no_external_buffers_allowed) { /* a runtime without external buffers: a copy */
    void *copy;
    status = napi_create_buffer_copy(env, out.size, out.data, &copy, &buffer);
    free(out.data);
  } else if (status != napi_ok) {
    free(out.data);
  }
  CHECK(status);
  return buffer;
}

static napi_value js_close(napi_env env, napi_callback_info info) {
  size_t argc = 1;
  napi_value argv[1];
  CHECK(napi_get_cb_info(env, info, &argc, argv, NULL, NULL));
  void *data = NULL;
  if (argc < 1 || napi_get_value_external(env, argv[0], &data) != napi_ok || !data) return throw_coded(env, "ERR_INVALID_ARG_TYPE", "expected a handle from open()");
  release(data);
  return NULL;
}

/*
 * releaseFreeMemory(): glibc's malloc_trim(0), which hands the free pages inside every malloc arena
 * back to the system, not only the top of each. A photo's buffers and OpenCV's Mats are freed in an
 * order that leaves holes in the arena, and glibc returns a hole only through this call; the
 * handler calls it after the full collections it runs (functions/common/collect.ts). Here because
 * this is the addon the layer already builds and loads once per container; it has nothing to do
 * with JPEG. Returns whether any memory went back.
 */
static napi_value js_release_free_memory(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value released;
  CHECK(napi_get_boolean(env, malloc_trim(0) == 1, &released));
  return released;
}

static napi_value init(napi_env env, napi_value exports) {
  init_basis();
  memset(mask_full, 255, sizeof mask_full);
  for (int k = 0; k < 64; k++) unzigzag[zigzag[k]] = (unsigned char)k;
  napi_property_descriptor props[] = {
      {"open", NULL, js_open, NULL, NULL, NULL, napi_enumerable, NULL},
      {"info", NULL, js_info, NULL, NULL, NULL, napi_enumerable, NULL},
      {"read", NULL, js_read, NULL, NULL, NULL, napi_enumerable, NULL},
      {"write", NULL, js_write, NULL, NULL, NULL, napi_enumerable, NULL},
      {"fill", NULL, js_fill, NULL, NULL, NULL, napi_enumerable, NULL},
      {"pixelate", NULL, js_pixelate, NULL, NULL, NULL, napi_enumerable, NULL},
      {"blur", NULL, js_blur, NULL, NULL, NULL, napi_enumerable, NULL},
      {"box", NULL, js_box, NULL, NULL, NULL, napi_enumerable, NULL},
      {"save", NULL, js_save, NULL, NULL, NULL, napi_enumerable, NULL},
      {"close", NULL, js_close, NULL, NULL, NULL, napi_enumerable, NULL},
      {"releaseFreeMemory", NULL, js_release_free_memory, NULL, NULL, NULL, napi_enumerable, NULL},
  };
  CHECK(napi_define_properties(env, exports, sizeof props / sizeof props[0], props));
  napi_value version;
  CHECK(napi_create_int32(env, JPEG_LIB_VERSION, &version));
  CHECK(napi_set_named_property(env, exports, "jpegLibVersion", version));
  /* The calls and arguments above, as JavaScript expects them (JPEG_LOSSLESS_INTERFACE): raised with any change to them. */
  CHECK(napi_create_int32(env, 3, &version));
  CHECK(napi_set_named_property(env, exports, "interface", version));
  return exports;
}

NAPI_MODULE(NODE_GYP_MODULE_NAME, init)
