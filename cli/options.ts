import type { Command } from 'commander';

/** The options every command that reads the configuration takes. */
export function withConfigOptions(command: Command): Command {
  return command
    .option('-c, --config <file>', 'configuration file (default: $REPRISE_CONFIG or ./reprise.config.json)')
    .option('-d, --data-dir <dir>', 'where the journal, index and models live (dataDir)');
}
