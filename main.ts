/** cdktf entry point: read the validated configuration, build the one stack (bundling the functions). */
import { App } from 'cdktf';
import { MissingArtifact } from './stack/artifact';
import { ConfigError, loadConfig } from './stack/config';
import { FaceDetectionStack } from './stack/face-detection-stack';

const app = new App();
try {
  new FaceDetectionStack(app, loadConfig(app.node.getAllContext()));
} catch (err) {
  if (err instanceof ConfigError) {
    process.stderr.write(`configuration error: ${err.message}\n`);
    process.exit(1);
  }
  if (err instanceof MissingArtifact) {
    process.stderr.write(`${err.message}\n`);
    process.exit(1);
  }
  throw err;
}
app.synth();
