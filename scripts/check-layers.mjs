// Runs dependency-cruiser with .dependency-cruiser.cjs over the server's folders, the front door
// and the widget; exits 1 on any violation (`npm run check:layers`, part of `npm test`).
// dependency-cruiser's command line (npx depcruise) refuses Node 20, which Reprise supports, although
// its API runs there: this calls the API with the same configuration file `npx depcruise
// --config .dependency-cruiser.cjs index.ts common config …` reads on Node 22.
import { createRequire } from 'node:module';
import { cruise, format } from 'dependency-cruiser';

const SOURCES = ['index.ts', 'common', 'config', 'models', 'store', 'reprints', 'harvester', 'plugin', 'publisher', 'cli', 'viewer-widget'];

const config = createRequire(import.meta.url)('../.dependency-cruiser.cjs');
const started = performance.now();
const result = await cruise(SOURCES, { ...config.options, validate: true, ruleSet: { forbidden: config.forbidden } });
const report = await format(result.output, { outputType: 'err' });
process.stdout.write(report.output);
const { error, totalCruised } = result.output.summary;
console.log(`check:layers: ${totalCruised} modules, ${error} violation(s), ${Math.round(performance.now() - started)} ms`);
process.exitCode = error > 0 ? 1 : 0;
