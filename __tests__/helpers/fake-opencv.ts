/**
 * A stand-in for @u4/opencv4nodejs that keeps the addon's ownership rules, for tests of what the
 * pipeline's OpenCV code releases (no pixel is computed). As in the addon, a Mat is a JS wrapper
 * holding one reference to its pixels: a region, and the Mat that `setTo` and `copyTo` return,
 * are new wrappers over the same pixels; `release()` drops the wrapper's reference, and pixels
 * are freed when no wrapper holds them (in the addon, a wrapper never released holds them until
 * the garbage collector finds it). `failOn` names calls that throw, to check the failure paths.
 */
import type { CascadeClassifier, Mat, Net, OpenCv, Rect } from '../../functions/detect-faces/opencv';

class Pixels {
  refs = 0;
  constructor(readonly label: string) {}
}

export interface FakeOpenCv {
  readonly cv: OpenCv;
  /** A Mat made outside the code under test (a decoded photo): `rows` x `cols`, 3 channels. */
  mat(rows: number, cols: number, label?: string): Mat;
  /** The pixels some wrapper still holds, by the call that made them. */
  live(): string[];
  /** Pixel buffers made so far. */
  made(): number;
  /** Mat wrappers made so far (a region or the Mat setTo returns is one, over pixels made before). */
  wrappers(): number;
  /** Calls that throw from now on (Mat methods and cv functions, by name). */
  readonly failOn: Set<string>;
}

export function fakeOpenCv(): FakeOpenCv {
  const all: Pixels[] = [];
  const failOn = new Set<string>();
  let wrappers = 0;
  const call = (name: string) => {
    if (failOn.has(name)) throw new Error(`${name} failed`);
  };

  class FakeMat {
    private pixels: Pixels | undefined;
    /** A network output's values (getData's, kept by flattenFloat); zeros when unset. */
    values: Float32Array | undefined;
    constructor(
      public rows: number,
      public cols: number,
      /** Bytes per element (channels x depth), for getData. */
      private readonly elemBytes: number,
      share: Pixels | string,
      public sizes: number[] = [rows, cols],
    ) {
      this.pixels = typeof share === 'string' ? new Pixels(share) : share;
      if (typeof share === 'string') all.push(this.pixels);
      this.pixels.refs += 1;
      wrappers += 1;
    }
    get empty(): boolean {
      return this.pixels === undefined;
    }
    get channels(): number {
      return this.elemBytes;
    }
    readonly depth = 0;
    private own(): Pixels {
      if (!this.pixels) throw new Error('the Mat was released');
      return this.pixels;
    }
    /** A new Mat with pixels of its own. */
    private made(name: string, rows: number, cols: number, elemBytes = this.elemBytes, sizes?: number[]): FakeMat {
      call(name);
      this.own();
      return new FakeMat(rows, cols, elemBytes, name, sizes);
    }
    /** A new wrapper over these pixels. */
    private shared(name: string, rows = this.rows, cols = this.cols): FakeMat {
      call(name);
      return new FakeMat(rows, cols, this.elemBytes, this.own());
    }
    resize(rows: number, cols: number) {
      return this.made('resize', rows, cols);
    }
    copyMakeBorder(top: number, bottom: number, left: number, right: number) {
      return this.made('copyMakeBorder', this.rows + top + bottom, this.cols + left + right);
    }
    bgrToGray() {
      return this.made('bgrToGray', this.rows, this.cols, 1);
    }
    flip() {
      return this.made('flip', this.rows, this.cols);
    }
    copy() {
      return this.made('copy', this.rows, this.cols);
    }
    gaussianBlur() {
      return this.made('gaussianBlur', this.rows, this.cols);
    }
    flattenFloat(rows: number, cols: number) {
      const out = this.made('flattenFloat', rows, cols, 4);
      out.values = this.values;
      return out;
    }
    getRegion(rect: Rect) {
      return this.shared('getRegion', rect.height, rect.width);
    }
    setTo() {
      return this.shared('setTo');
    }
    copyTo(dst: FakeMat) {
      call('copyTo');
      this.own();
      return dst.shared('copyTo');
    }
    getData(): Buffer {
      call('getData');
      this.own();
      // As the addon: only 2-D Mats (network outputs are flattened first).
      if (this.sizes.length > 2) throw new Error('getData: more than 2 dimensions');
      return this.values ? Buffer.from(this.values.buffer.slice(0)) : Buffer.alloc(this.rows * this.cols * this.elemBytes);
    }
    drawRectangle() {
      call('drawRectangle');
      this.own();
    }
    drawEllipse() {
      call('drawEllipse');
      this.own();
    }
    release() {
      if (this.pixels) this.pixels.refs -= 1;
      this.pixels = undefined;
      this.rows = this.cols = 0;
      this.sizes = [0, 0];
    }
  }

  class FakeNet implements Net {
    private input: FakeMat | undefined;
    setInput(blob: Mat) {
      call('setInput');
      this.input = blob as unknown as FakeMat;
    }
    /**
     * YuNet 2023mar's outputs for the input's size (`<kind>_<stride>`, one row per grid cell), one
     * face at the first cell of stride 8 (40 px, score 1: the cascade crops 120 px around it, which the second network pads); or
     * YuNet 2022mar's (`loc`, `conf`, `iou`, one row per prior), zeros: no face.
     */
    forward(names: string[]): Mat[] {
      call('forward');
      const [, , h, w] = this.input!.sizes;
      const width = { cls: 1, obj: 1, bbox: 4, kps: 10, loc: 14, conf: 2, iou: 1 } as Record<string, number>;
      const priors = [8, 16, 32, 64].reduce((n, stride, level) => n + (h / stride) * (w / stride) * [3, 2, 2, 3][level], 0);
      return names.map((name) => {
        const [kind, stride] = name.split('_');
        const rows = stride === undefined ? priors : (h / Number(stride)) * (w / Number(stride));
        const out = new FakeMat(0, 0, 4, `forward ${name}`, [1, rows, width[kind]]);
        if ((kind === 'cls' || kind === 'obj') && stride === '8') {
          out.values = new Float32Array(rows);
          out.values[0] = 1;
        }
        if (kind === 'bbox' && stride === '8') {
          out.values = new Float32Array(rows * 4);
          out.values[2] = out.values[3] = Math.log(5);
        }
        return out as unknown as Mat;
      });
    }
  }

  const fail = (name: string) => call(name);
  const cv = {
    version: { major: 4, minor: 10, revision: 0 },
    INTER_AREA: 3,
    INTER_NEAREST: 0,
    INTER_LINEAR: 1,
    BORDER_REPLICATE: 1,
    FILLED: -1,
    LINE_8: 8,
    CV_8UC1: 0,
    BORDER_CONSTANT: 0,
    IMREAD_COLOR: 1,
    IMREAD_REDUCED_COLOR_2: 17,
    IMREAD_REDUCED_COLOR_4: 33,
    IMREAD_REDUCED_COLOR_8: 65,
    IMREAD_UNCHANGED: -1,
    CV_16U: 2,
    IMWRITE_JPEG_QUALITY: 1,
    LINE_AA: 16,
    CV_8UC3: 16,
    Mat: class extends FakeMat {
      constructor(a: number | Buffer, b: number, c: number, type?: number) {
        fail('Mat');
        // (rows, cols, type) or (data, rows, cols, type): the addon copies the data into pixels of its own.
        const [rows, cols, t] = Buffer.isBuffer(a) ? [b, c, type] : [a, b, c];
        super(rows, cols, t === 0 ? 1 : 3, 'new Mat');
      }
    },
    Point2: class {
      constructor(
        readonly x: number,
        readonly y: number,
      ) {}
    },
    Vec3: class {
      constructor(
        readonly x: number,
        readonly y: number,
        readonly z: number,
      ) {}
    },
    Size: class {
      constructor(
        readonly width: number,
        readonly height: number,
      ) {}
    },
    Rect: class {
      constructor(
        readonly x: number,
        readonly y: number,
        readonly width: number,
        readonly height: number,
      ) {}
    },
    RotatedRect: class {
      constructor(
        readonly center: unknown,
        readonly size: unknown,
        readonly angle: number,
      ) {}
    },
    CascadeClassifier: class implements CascadeClassifier {
      detectMultiScale() {
        fail('detectMultiScale');
        return { objects: [], numDetections: [] };
      }
    },
    readNetFromONNX: () => new FakeNet(),
    blobFromImage(image: Mat) {
      fail('blobFromImage');
      const m = image as unknown as FakeMat;
      if (m.empty) throw new Error('blobFromImage: empty image');
      return new FakeMat(0, 0, 4, 'blobFromImage', [1, 3, m.rows, m.cols]) as unknown as Mat;
    },
    imdecode() {
      fail('imdecode');
      return new FakeMat(480, 640, 3, 'imdecode') as unknown as Mat;
    },
    imencode(_ext: string, image: Mat) {
      fail('imencode');
      if ((image as unknown as FakeMat).empty) throw new Error('imencode: empty image');
      return Buffer.from('encoded');
    },
    setNumThreads: () => undefined,
    getNumThreads: () => 1,
  } as unknown as OpenCv;

  return {
    cv,
    mat: (rows, cols, label = 'photo') => new FakeMat(rows, cols, 3, label) as unknown as Mat,
    live: () => all.filter((p) => p.refs > 0).map((p) => p.label),
    made: () => all.length,
    wrappers: () => wrappers,
    failOn,
  };
}
