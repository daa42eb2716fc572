/** Where the analysed pixels sit in the image they came from: source = analysed × scale + offset. */
export interface AnalysisFrame {
  /** Size of the image the features describe (the source: a fetched canvas image, an upload). */
  sourceWidth: number;
  sourceHeight: number;
  scale: number;
  offsetX: number;
  offsetY: number;
  /** Size of the analysed content (after trimming uniform borders and resizing), in analysed pixels. */
  width: number;
  height: number;
}

/**
 * Local features of one image: RootSIFT keypoints of size ≥ minSize at the analysis size,
 * strongest first and bounded in number.
 */
export interface ImageFeatures {
  frame: AnalysisFrame;
  /** [x, y, size, angle] per keypoint, analysed pixels. */
  keypoints: Float32Array;
  /** 128 bytes per keypoint: RootSIFT components × 512. */
  descriptors: Uint8Array;
  /** Why there are no features, when there are none (blank, tiny, no texture). */
  empty?: string;
}

export const DESCRIPTOR_BYTES = 128;

export const keypointCount = (features: Pick<ImageFeatures, 'descriptors'>): number => features.descriptors.length / DESCRIPTOR_BYTES;

/** An axis-aligned box, pixels of some image. */
export interface Rect {
  x: number;
  y: number;
  w: number;
  h: number;
}
