import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../common/index.ts';
import { LocalFeaturesUnavailableError } from './errors.ts';

/**
 * The binding's interface (native/local_features.cc). Keypoints: [x, y, size, angle] per row;
 * descriptors: RootSIFT ×512 as bytes. `extract` runs on the libuv thread pool (tens of ms an image).
 */
export interface LocalFeaturesBinding {
  extract(
    gray: Uint8Array,
    width: number,
    height: number,
    options?: { maxKeypoints?: number; minSize?: number; contrastThreshold?: number; edgeThreshold?: number; halfDetection?: boolean },
  ): Promise<{ keypoints: Float32Array; descriptors: Uint8Array }>;
  verify(
    keypointsA: Float32Array,
    descriptorsA: Uint8Array,
    keypointsB: Float32Array,
    descriptorsB: Uint8Array,
    options?: { ratio?: number; ransacThreshold?: number; maxIterations?: number; confidence?: number; minMatches?: number },
  ): { matches: number; inliers: number; transform: Float64Array | null; pairs: Int32Array };
  assign(descriptors: Uint8Array, coarse: Uint8Array, fine: Uint8Array, branches: number, leaves: number): Uint16Array;
  assignSoft(descriptors: Uint8Array, coarse: Uint8Array, fine: Uint8Array, branches: number, leaves: number): Uint16Array;
  kmeans(data: Float32Array, dims: number, k: number, iterations: number, seed: number): { centers: Float32Array; labels: Int32Array };
  /** Blurs a halftone screen away in place (a Gaussian tuned to its period) when the centre of the image shows one. */
  descreen(
    gray: Uint8Array,
    width: number,
    height: number,
    options?: { minPeriod?: number; maxPeriod?: number; minStrength?: number; smallPeriod?: number; minStrengthSmall?: number; sigmaPerPeriod?: number; minSigma?: number; apply?: boolean },
  ): { period: number; strength: number; sigma: number };
  opencvVersion(): string;
}

/** The binding's sources and build (node-gyp), in the package itself: they are not compiled TypeScript. */
export const NATIVE_DIR = path.join(PACKAGE_ROOT, 'reprints', 'features', 'native');

export const BINDING_PATH = path.join(NATIVE_DIR, 'build', 'Release', 'local_features.node');

let loaded: LocalFeaturesBinding | Error | undefined;

/** The binding, loaded once; a LocalFeaturesUnavailableError saying how to build it when it is missing or broken. */
export function localFeatures(): LocalFeaturesBinding {
  if (!loaded) {
    try {
      if (!existsSync(BINDING_PATH)) throw new LocalFeaturesUnavailableError(`the binding was not built (${BINDING_PATH} is missing)`);
      loaded = createRequire(import.meta.url)(BINDING_PATH) as LocalFeaturesBinding;
    } catch (err) {
      loaded = err instanceof LocalFeaturesUnavailableError ? err : new LocalFeaturesUnavailableError(`the binding failed to load (${(err as Error).message})`, { cause: err });
    }
  }
  if (loaded instanceof Error) throw loaded;
  return loaded;
}

/** Whether reprint detection can run here, without throwing. */
export function localFeaturesAvailable(): boolean {
  try {
    localFeatures();
    return true;
  } catch {
    return false;
  }
}
