/** A built zip (function bundle or layer) as a Terraform asset, with the hash Lambda compares. */
import * as fs from 'node:fs';
import * as path from 'node:path';
import { AssetType, Fn, TerraformAsset } from 'cdktf';
import { Construct } from 'constructs';

export interface ArtifactProps {
  /** Path of the zip, relative to the project root or absolute. */
  readonly zipPath: string;
  /** The command that builds it, named in the error when the zip is missing. */
  readonly buildCommand: string;
}

/** A zip the stack deploys is not there: the message names the command that builds it. */
export class MissingArtifact extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'MissingArtifact';
  }
}

export class Artifact extends Construct {
  readonly asset: TerraformAsset;
  /** Base64 SHA-256 of the zip, as `source_code_hash` expects. */
  readonly sourceCodeHash: string;
  readonly sizeBytes: number;

  constructor(scope: Construct, id: string, props: ArtifactProps) {
    super(scope, id);
    const file = path.resolve(props.zipPath);
    if (!fs.existsSync(file)) {
      throw new MissingArtifact(`missing ${props.zipPath}: build it with \`${props.buildCommand}\``);
    }
    this.sizeBytes = fs.statSync(file).size;
    this.asset = new TerraformAsset(this, 'asset', { path: file, type: AssetType.FILE });
    this.sourceCodeHash = Fn.filebase64sha256(this.asset.path);
  }
}
