// Builds the reprint-detection binding (reprints/features/build-native.ts). npm runs this after
// installing Reprise: in a clone, before anything is compiled, so from the TypeScript sources
// through tsx (a devDependency); where Reprise is installed as a package, from its compiled dist/.
import { existsSync } from 'node:fs';

const source = new URL('../reprints/features/build-native.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import(new URL('../dist/reprints/features/build-native.js', import.meta.url).href);
}
