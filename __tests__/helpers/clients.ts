/**
 * The real clients the system tests drive: AWS CLI v2 and a Chromium-family browser. Debian puts
 * them at /usr/bin (packages awscli, chromium); a GitHub Ubuntu runner ships them at
 * /usr/local/bin/aws and /usr/bin/google-chrome. AWS_CLI / CHROMIUM_PATH override (scripts/setup.sh
 * looks in the same places before installing anything).
 */
import * as fs from 'node:fs';

const firstExisting = (paths: string[]) => paths.find((p) => fs.existsSync(p)) ?? paths[0];

export const AWS_CLI = process.env.AWS_CLI ?? firstExisting(['/usr/bin/aws', '/usr/local/bin/aws']);
export const CHROMIUM = process.env.CHROMIUM_PATH ?? firstExisting(['/usr/bin/chromium', '/usr/bin/google-chrome']);
