/** The package our jpeg-lossless addon is in the layer (`/opt/nodejs/node_modules`, on NODE_PATH); the layer build places it there (layer/inputs.ts LAYER_LAYOUT). Dependency-free, so the layer build can import it. */
export const JPEG_LOSSLESS_PACKAGE = '@facedetect/jpeg-lossless';
