/**
 * Kept only for local/layer.ts (another wing's file), which imports sha256File from here: the
 * layer build's machinery is in layer/build-kit/, its rules in layer/rules/. Delete this file once
 * local/layer.ts imports '../layer/build-kit/cache'.
 */
export { sha256File } from '../build-kit/cache';
