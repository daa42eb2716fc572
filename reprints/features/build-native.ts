/**
 * Builds the local-features binding (native/local_features.cc) against the system OpenCV.
 * Run by `npm install` / `npm ci` (postinstall) and by `npm run build:local-features`.
 *
 * Without OpenCV the install still succeeds (search, harvesting and the API do not need it)
 * and says how to get reprint detection; set REPRISE_LOCAL_FEATURES=required (CI) to make a
 * failed build fail the install instead.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { INSTALL_HINT } from './errors.ts';
import { NATIVE_DIR as nativeDir } from './native.ts';

const required = process.env.REPRISE_LOCAL_FEATURES === 'required';

function give(message: string): never {
  console.error(`reprise: local features not built: ${message}\n${INSTALL_HINT}`);
  process.exit(required ? 1 : 0);
}

const pkgConfig = (...args: string[]): string | undefined => {
  try {
    return execFileSync('pkg-config', args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] }).trim();
  } catch {
    return undefined;
  }
};

/**
 * Where OpenCV is: pkg-config's opencv4 (libopencv-dev, Homebrew), else the headers alone
 * (Debian's libopencv-features2d-dev and libopencv-calib3d-dev ship no .pc file), else
 * OPENCV_INCLUDE_DIR / OPENCV_LIB_DIR.
 */
function locateOpenCv(): { version: string; include: string; libDirs: string } | undefined {
  const fromPkg = pkgConfig('--modversion', 'opencv4');
  if (fromPkg && !process.env.OPENCV_INCLUDE_DIR) {
    const include = (pkgConfig('--cflags-only-I', 'opencv4') ?? '').split(/\s+/).filter(Boolean).map((f) => f.replace(/^-I/, ''))[0] ?? '/usr/include/opencv4';
    return { version: fromPkg, include, libDirs: pkgConfig('--libs-only-L', 'opencv4') ?? '' };
  }
  const include = process.env.OPENCV_INCLUDE_DIR ?? '/usr/include/opencv4';
  const header = path.join(include, 'opencv2', 'core', 'version.hpp');
  if (!existsSync(header) || !existsSync(path.join(include, 'opencv2', 'features2d.hpp')) || !existsSync(path.join(include, 'opencv2', 'calib3d.hpp'))) return undefined;
  const text = readFileSync(header, 'utf8');
  const part = (name: string) => new RegExp(String.raw`#define\s+CV_VERSION_${name}\s+(\d+)`).exec(text)?.[1] ?? '0';
  const version = [part('MAJOR'), part('MINOR'), part('REVISION')].join('.');
  return { version, include, libDirs: process.env.OPENCV_LIB_DIR ? `-L${process.env.OPENCV_LIB_DIR}` : '' };
}

/** npm sets npm_config_node_gyp in lifecycle scripts; otherwise the node-gyp bundled with npm. */
function nodeGyp(): string | undefined {
  const candidates = [
    process.env.npm_config_node_gyp,
    process.env.npm_execpath && path.join(path.dirname(process.env.npm_execpath), '..', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'node_modules', 'node-gyp', 'bin', 'node-gyp.js'),
  ];
  return candidates.find((c): c is string => !!c && existsSync(c));
}

/** Headers of the running Node when installed beside it (distribution packages, official tarballs): no download. */
function nodeDir(): string | undefined {
  if (process.env.npm_config_nodedir) return process.env.npm_config_nodedir;
  const prefix = path.resolve(path.dirname(process.execPath), '..');
  return existsSync(path.join(prefix, 'include', 'node', 'node_api.h')) ? prefix : undefined;
}

const opencv = locateOpenCv();
if (!opencv) give('no OpenCV development files found (pkg-config opencv4, or opencv2/features2d.hpp and calib3d.hpp under /usr/include/opencv4 or OPENCV_INCLUDE_DIR).');
const { version } = opencv;
const [major = 0, minor = 0] = version.split('.').map(Number);
if (major < 4 || (major === 4 && minor < 4)) give(`OpenCV ${version} is too old (SIFT is in features2d from 4.4).`);
const gyp = nodeGyp();
if (!gyp) give('node-gyp (bundled with npm) was not found.');
const dir = nodeDir();
const started = performance.now();
const args = [gyp, 'rebuild', `--directory=${nativeDir}`, '--jobs=max', '--loglevel=warn', ...(dir ? [`--nodedir=${dir}`] : [])];
const result = spawnSync(process.execPath, args, {
  stdio: ['ignore', 'ignore', 'inherit'],
  env: { ...process.env, REPRISE_OPENCV_INCLUDE: opencv.include, REPRISE_OPENCV_LIBDIRS: opencv.libDirs },
});
if (result.status !== 0) give(`node-gyp failed (exit ${result.status ?? result.signal}).`);
console.error(`reprise: local features built against OpenCV ${version} in ${((performance.now() - started) / 1000).toFixed(1)} s`);
