import { ImageDecodeError, RepriseError } from '../../common/index.ts';

/** How to get the native local-features binding; said by the install script and by every error below. */
export const INSTALL_HINT =
  'Reprint detection needs OpenCV ≥ 4.4 with its development files and a C++ compiler: on Debian/Ubuntu ' +
  '"apt-get install -y libopencv-dev g++ make python3 pkg-config", on macOS "brew install opencv pkg-config"; ' +
  'then run "npm run build:local-features".';

/** The native binding is not built or cannot be loaded: reprint detection is unavailable, everything else works. */
export class LocalFeaturesUnavailableError extends RepriseError {
  override readonly name = 'LocalFeaturesUnavailableError';
  constructor(reason: string, options?: ErrorOptions) {
    super(`reprint detection is unavailable: ${reason}. ${INSTALL_HINT}`, options);
  }
}

/** An image that cannot be used for local features: too small to hold a photograph, or raw pixels that do not match their size (an undecodable file is the ImageDecodeError this extends). */
export class FeatureInputError extends ImageDecodeError {
  override readonly name = 'FeatureInputError';
}
