import { spawnSync } from 'node:child_process';
import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const BUILD_INFO = path.join(ROOT, 'dist', '.tsbuildinfo');
const SOURCES = ['index.ts', 'common', 'config', 'models', 'store', 'reprints', 'harvester', 'plugin', 'publisher', 'cli', 'viewer-widget/serve.ts', 'viewer-widget/build.ts'];

function newestSource(entry: string): number {
  const full = path.join(ROOT, entry);
  const stat = statSync(full);
  if (!stat.isDirectory()) return entry.endsWith('.ts') ? stat.mtimeMs : 0;
  return Math.max(0, ...readdirSync(full).filter((e) => e !== 'node_modules' && e !== 'native').map((e) => newestSource(path.join(entry, e))));
}

/**
 * The compiled package (dist/) as `import 'reprise'` finds it, compiled again when a source is
 * newer: tests that run the docs' examples as a portal would, plain JavaScript importing `reprise`,
 * need it current. `npm test` has built it already; a test file run alone builds it here (tsc
 * compiles incrementally: seconds when little changed).
 */
export function ensureBuilt(): void {
  let built = 0;
  try {
    built = statSync(BUILD_INFO).mtimeMs;
  } catch {
    // never built
  }
  if (built >= Math.max(...SOURCES.map(newestSource))) return;
  const tsc = spawnSync(process.execPath, [path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { cwd: ROOT, encoding: 'utf8', timeout: 300_000 });
  if (tsc.status !== 0) throw new Error(`building dist/ failed (npm run build):\n${tsc.stdout}${tsc.stderr}`);
}
