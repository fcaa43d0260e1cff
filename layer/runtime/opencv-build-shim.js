// Stands in for @u4/opencv-build inside the layer's bundled loader.
// @u4/opencv-build locates or compiles OpenCV at install time; at run time the addon's loader only
// asks it whether auto-build is disabled (it is: the layer ships a finished build) and for log and
// colour helpers on its error paths. The real package pulls in 30 packages (~11 MB) and prints
// several lines to stdout on every require, which corrupts JSON output; this keeps the loader
// silent and small. Errors still surface: the loader throws them as before.
'use strict';
class OpenCVBuilder {
  constructor() {
    this.env = { isAutoBuildDisabled: true, opencvBinDir: '' };
  }
}
const plain = (text) => String(text);
module.exports = {
  OpenCVBuilder,
  Log: { silence: true, log() {} },
  pc: { yellow: plain, red: plain, green: plain, bold: plain },
};
