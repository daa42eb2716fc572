import { localFeatures } from './native.ts';
import { DEFAULT_PREPARE, prepareImage, type PrepareOptions, type RawPixels } from './prepare.ts';
import { DESCRIPTOR_BYTES, type ImageFeatures } from './types.ts';

export interface ExtractOptions extends PrepareOptions {
  /**
   * Keypoints smaller than this (analysed pixels) are dropped: halftone dots and grain otherwise
   * take the budget. 6 measured best on the shared photographs.
   */
  minKeypointSize: number;
  /** The strongest this many are kept: about 26 KB of descriptors per image at 200. */
  maxKeypoints: number;
  /** Fewer keypoints than this and the image is treated as having no usable texture. */
  minKeypoints: number;
  /**
   * SIFT's contrast threshold. The strongest keypoints are kept anyway, so a low threshold only
   * matters where strong ones are scarce: faded, re-toned and halftone prints (0.04, OpenCV's
   * default, left them with 20–70 keypoints; 0.01 lifted exhaustive Recall@1 at intensity 0.9
   * from 91 to 95 %).
   */
  contrastThreshold: number;
  /** Detect at half resolution (descriptors still at full): the same keypoints of size ≥ 6 at a third of the cost. */
  halfDetection: boolean;
}

export const DEFAULT_EXTRACT: ExtractOptions = { ...DEFAULT_PREPARE, minKeypointSize: 6, maxKeypoints: 200, minKeypoints: 12, contrastThreshold: 0.01, halfDetection: true };

/** RootSIFT features of an image (encoded bytes or raw pixels); an image without usable content gets none, with the reason. */
export async function extractFeatures(input: Buffer | RawPixels, options: ExtractOptions = DEFAULT_EXTRACT): Promise<ImageFeatures> {
  const binding = localFeatures();
  const prepared = await prepareImage(input, options);
  if (prepared.empty) return { frame: prepared.frame, keypoints: new Float32Array(0), descriptors: new Uint8Array(0), empty: prepared.empty };
  const { keypoints, descriptors } = await binding.extract(prepared.gray, prepared.frame.width, prepared.frame.height, {
    maxKeypoints: options.maxKeypoints,
    minSize: options.minKeypointSize,
    contrastThreshold: options.contrastThreshold,
    halfDetection: options.halfDetection,
  });
  const count = descriptors.length / DESCRIPTOR_BYTES;
  if (count < options.minKeypoints) {
    return { frame: prepared.frame, keypoints: new Float32Array(0), descriptors: new Uint8Array(0), empty: `no usable texture (${count} keypoints)` };
  }
  return { frame: prepared.frame, keypoints, descriptors };
}
