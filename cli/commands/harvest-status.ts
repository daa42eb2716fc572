import type { Command } from 'commander';
import { withConfigOptions } from '../options.ts';
import { existsSync } from 'node:fs';
import { loadConfig } from '../../config/index.ts';
import { Journal } from '../../harvester/index.ts';
import { journalPath } from '../../harvester/index.ts';
import { METADATA_STAGE_ID } from '../../harvester/index.ts';
import { CliError, EXIT } from '../exit.ts';

export function registerHarvestStatus(program: Command): void {
  withConfigOptions(program.command('harvest-status'))
    .description('show the journal: canvases by status, recent runs, failures')
    .option('--failures', 'list every failed canvas with its reason')
    .option('--json', 'print JSON')
    .addHelpText('after', `
Examples:
  reprise harvest-status
  reprise harvest-status --failures --json | jq '.failures[].reason'`)
    .action((flags: { failures?: boolean; json?: boolean; config?: string; dataDir?: string }) => {
      const config = loadConfig({ file: flags.config, overrides: { dataDir: flags.dataDir } });
      const file = journalPath(config.dataDir);
      if (!existsSync(file)) throw new CliError(`no harvest journal at ${file}: run "reprise harvest <url>" first`, EXIT.FATAL);
      const journal = new Journal(file);
      try {
        const status = {
          journal: file,
          canvases: journal.counts(),
          // Stored without a model: in the index with their metadata, not embedded yet.
          withoutVectors: journal.countIndexedBy(METADATA_STAGE_ID),
          runs: journal.lastRuns(5).map((r) => ({ ...r, summary: undefined })),
          failures: flags.failures ? journal.failures() : undefined,
        };
        if (flags.json) {
          process.stdout.write(JSON.stringify(status, null, 2) + '\n');
          return;
        }
        const c = status.canvases;
        const bare = status.withoutVectors
          ? ` (${status.withoutVectors} without image vectors: harvested without a model; the next harvest with one embeds them from the image cache)`
          : '';
        process.stdout.write(`${file}\n  canvases: ${c.indexed} indexed${bare}, ${c.pending + c.fetched} waiting, ${c.failed} failed\n  recent runs:\n`);
        for (const r of status.runs) process.stdout.write(`    #${r.id} ${r.started_at} → ${r.finished_at ?? '…'} ${r.status}\n`);
        for (const f of status.failures ?? []) process.stdout.write(`  failed ${f.canvas_id} (${f.image_url}): ${f.reason}\n`);
      } finally {
        journal.close();
      }
    });
}
