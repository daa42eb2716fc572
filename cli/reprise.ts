import { Command, CommanderError } from 'commander';
import { ConfigError } from '../config/index.ts';
import { ModelFolderError } from '../models/index.ts';
import { StoreError } from '../store/index.ts';
import { registerEmbeddings } from './commands/embeddings.ts';
import { registerHarvest } from './commands/harvest.ts';
import { registerHarvestStatus } from './commands/harvest-status.ts';
import { registerMap } from './commands/map.ts';
import { registerModels } from './commands/models.ts';
import { registerPublish } from './commands/publish.ts';
import { registerRelabel } from './commands/relabel.ts';
import { registerReprints } from './commands/reprints.ts';
import { registerSearch } from './commands/search.ts';
import { registerServe } from './commands/serve.ts';
import { registerStart } from './commands/start.ts';
import { CliError, EXIT } from './exit.ts';
import { refuseUnknownCommand } from './unknown-command.ts';

export function buildProgram(): Command {
  const program = new Command('reprise')
    .description('Visual search for IIIF collections: harvest, embed, search, find reprints.')
    .version('0.1.0')
    .showHelpAfterError()
    .exitOverride();
  registerStart(program);
  registerHarvest(program);
  registerHarvestStatus(program);
  registerModels(program);
  registerServe(program);
  registerSearch(program);
  registerPublish(program);
  registerReprints(program);
  registerEmbeddings(program);
  registerMap(program);
  registerRelabel(program);
  program.addHelpText('after', `
Examples:
  reprise start --images ./photographs
  reprise harvest https://example.org/iiif/collection.json
  reprise harvest-status --failures
  reprise models list
  reprise models pull clip-vit-base-patch32
  reprise search "a horse and cart"
  reprise serve --port 3000

Configuration: ./reprise.config.json, $REPRISE_CONFIG, or REPRISE_* variables
(nested keys with a double underscore, e.g. REPRISE_HARVEST__HTTP__CONCURRENCY=4).`);
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    const program = buildProgram();
    refuseUnknownCommand(program, argv.slice(2));
    await program.parseAsync(argv);
    return typeof process.exitCode === 'number' ? process.exitCode : EXIT.OK;
  } catch (err) {
    if (err instanceof CommanderError) return err.exitCode === 0 ? EXIT.OK : EXIT.FATAL;
    // Errors that say what to fix (configuration, an unreachable or mismatched store, a broken
    // model folder) are shown as their message; only the unexpected ones get a stack trace.
    if (err instanceof CliError || err instanceof ConfigError || err instanceof StoreError || err instanceof ModelFolderError) {
      process.stderr.write(`reprise: ${err.message}\n`);
      return err instanceof CliError ? err.exitCode : EXIT.FATAL;
    }
    process.stderr.write(`reprise: fatal: ${(err as Error)?.stack ?? String(err)}\n`);
    return EXIT.FATAL;
  }
}
