import type { LabelsConfig } from '../config/index.ts';
import type { ClassifierFiles } from './classifier/classifier-folder.ts';
import type { ClassifierInfo } from './classifier/load-classifier.ts';
import type { ImageEncoder } from './image-encoder.ts';
import type { TextEncoder } from './text-encoder.ts';
import type { EncoderConfig, ModelConfig, ModelFiles } from './types.ts';

/** A CLIP-family model: images and texts in one embedding space. */
export interface ClipEncoders {
  kind: 'clip';
  files: ModelFiles;
  config: ModelConfig;
  image: ImageEncoder;
  text: TextEncoder;
  /** The label sets configured with the model (models.labels), which models/labels/ applies. */
  labels: LabelsConfig;
  close(): Promise<void>;
}

/** An image-only ONNX classifier (ImageNet CNNs): image search, similar items and regions; no text tower. */
export interface ClassifierEncoders {
  kind: 'classifier';
  files: ClassifierFiles;
  config: EncoderConfig;
  image: ImageEncoder;
  text?: undefined;
  classifier: ClassifierInfo;
  labels: LabelsConfig;
  close(): Promise<void>;
}

export type Encoders = ClipEncoders | ClassifierEncoders;
