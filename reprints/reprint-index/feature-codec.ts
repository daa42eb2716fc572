import type { AnalysisFrame, ImageFeatures } from '../features/index.ts';

/** Keypoint positions are kept to 1/16 px: far below the 5 px RANSAC threshold, 4 bytes a keypoint. */
const POINT_SCALE = 16;

export function encodeFrame(f: AnalysisFrame): Buffer {
  return Buffer.from(new Float64Array([f.sourceWidth, f.sourceHeight, f.scale, f.offsetX, f.offsetY, f.width, f.height]).buffer);
}

export function decodeFrame(bytes: Buffer): AnalysisFrame {
  const v = new Float64Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  return { sourceWidth: v[0]!, sourceHeight: v[1]!, scale: v[2]!, offsetX: v[3]!, offsetY: v[4]!, width: v[5]!, height: v[6]! };
}

export function encodePoints(keypoints: Float32Array): Buffer {
  const n = keypoints.length / 4;
  const out = new Uint16Array(n * 2);
  for (let i = 0; i < n; i++) {
    out[i * 2] = Math.round(keypoints[i * 4]! * POINT_SCALE);
    out[i * 2 + 1] = Math.round(keypoints[i * 4 + 1]! * POINT_SCALE);
  }
  return Buffer.from(out.buffer);
}

/** Back to the binding's [x, y, size, angle] rows; size and angle are not kept (verification uses positions only). */
export function decodePoints(bytes: Buffer): Float32Array {
  const points = new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
  const n = points.length / 2;
  const out = new Float32Array(n * 4);
  for (let i = 0; i < n; i++) {
    out[i * 4] = points[i * 2]! / POINT_SCALE;
    out[i * 4 + 1] = points[i * 2 + 1]! / POINT_SCALE;
  }
  return out;
}

export const encodeWords = (words: Uint16Array): Buffer => Buffer.from(words.buffer, words.byteOffset, words.byteLength);
export const decodeWords = (bytes: Buffer): Uint16Array => new Uint16Array(bytes.buffer.slice(bytes.byteOffset, bytes.byteOffset + bytes.byteLength));
export const encodeDescriptors = (d: Uint8Array): Buffer => Buffer.from(d.buffer, d.byteOffset, d.byteLength);
export const decodeDescriptors = (bytes: Buffer): Uint8Array => new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);

export type StoredFeatures = Pick<ImageFeatures, 'frame' | 'keypoints' | 'descriptors'>;
