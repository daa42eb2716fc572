import path from 'node:path';
import type { Command } from 'commander';
import { withConfigOptions } from '../options.ts';
import { loadConfig } from '../../config/index.ts';
import { CliError, EXIT } from '../exit.ts';

interface MapFlags {
  config?: string;
  dataDir?: string;
  collection?: string;
}

/** Computes a collection's map now and stores it where `reprise serve` serves it from (GET /map). */
export async function runMap(flags: MapFlags): Promise<number> {
  const config = loadConfig({ file: flags.config, overrides: flags.dataDir ? { dataDir: flags.dataDir } : {} });
  const { openStore } = await import('../../store/index.ts');
  const { MapJobs } = await import('../../plugin/index.ts');
  const store = await openStore(config.store, config.dataDir);
  const jobs = new MapJobs(store, { dir: path.join(config.dataDir, 'maps', config.store.index) });
  const started = performance.now();
  try {
    const map = await jobs.computeNow(flags.collection ?? null);
    const seconds = ((performance.now() - started) / 1000).toFixed(1);
    process.stdout.write(`map of ${flags.collection === undefined ? 'the whole index' : JSON.stringify(flags.collection)}: ${map.ids.length} points in ${seconds} s\n`);
    return EXIT.OK;
  } catch (err) {
    throw new CliError(`the map could not be computed: ${(err as Error).message}`, EXIT.FATAL);
  } finally {
    await jobs.close();
    await store.close();
  }
}

export function registerMap(program: Command): void {
  withConfigOptions(program.command('map'))
    .description('lay out a collection\'s images on a 2-D map (similar ones near each other), for GET /map and the <reprise-map> widget')
    .option('--collection <label>', 'the collection to map (default: the whole index)')
    .addHelpText('after', `
The server computes a map itself the first time it is asked for one (and again when the collection
changes); this computes it ahead, e.g. after a harvest from cron.

Examples:
  reprise map
  reprise map --collection "Photographs"`)
    .action(async (flags: MapFlags) => {
      process.exitCode = await runMap(flags);
    });
}
