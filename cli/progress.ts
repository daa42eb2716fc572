import cliProgress from 'cli-progress';
import { pino, type Logger } from 'pino';
import type { HarvestEvent, HarvestSummary } from '../harvester/index.ts';

export interface ProgressReporter {
  onEvent(event: HarvestEvent): void;
  stop(): void;
}

/** For cron and log collectors: one JSON line per event on stdout. */
export function jsonLogReporter(logger: Logger): ProgressReporter {
  return {
    onEvent(event) {
      switch (event.type) {
        case 'image':
          if (event.status === 'failed') logger.warn(event, 'image failed');
          else logger.info(event, `image ${event.status}`);
          break;
        case 'document':
          if (event.status === 'failed') logger.warn(event, `${event.kind} failed`);
          else logger.info(event, `${event.kind} ${event.status}`);
          break;
        case 'warning':
          logger.warn(event, event.message);
          break;
        case 'run-end':
          logger.info({ type: 'summary', ...event.summary }, event.summary.status === 'interrupted' ? 'harvest interrupted' : 'harvest finished');
          break;
        default:
          logger.info(event, event.type);
      }
    },
    stop() {},
  };
}

/** For people at a terminal: a bar with counts, rate and ETA on stderr. */
export function terminalReporter(stream: NodeJS.WriteStream = process.stderr): ProgressReporter {
  const counts = { manifests: 0, manifestsFailed: 0, canvases: 0, done: 0, failed: 0 };
  let total = 0;
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format:
        'images {bar} {value}/{total} | failed {failed} | manifests {manifests} (failed {manifestsFailed}) | canvases {canvases} | {rate}/s | ETA {eta_formatted}',
      hideCursor: true,
      etaBuffer: 50,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let started = false;
  const startedAt = Date.now();
  const payload = () => ({ ...counts, rate: ((counts.done + counts.failed) / Math.max(0.001, (Date.now() - startedAt) / 1000)).toFixed(1) });
  return {
    onEvent(event) {
      // Images start while discovery still reads manifests: until the total is known, one line counts both.
      const discovering = () => stream.write(`\rdiscovering: ${counts.manifests} manifests, ${counts.canvases} canvases; images ${counts.done} done, ${counts.failed} failed`);
      if (event.type === 'document' && event.kind === 'manifest') {
        counts.manifests++;
        counts.canvases += event.canvases ?? 0;
        if (event.status === 'failed') counts.manifestsFailed++;
        if (!started) discovering();
      } else if (event.type === 'images-queued') {
        total = event.total;
        if (!started) stream.write('\n');
        bar.start(total, counts.done + counts.failed, payload());
        started = true;
      } else if (event.type === 'image') {
        if (event.status === 'failed') counts.failed++;
        else counts.done++;
        if (started) bar.update(counts.done + counts.failed, payload());
        else discovering();
      } else if (event.type === 'reprint-scan' && event.status === 'started') {
        // After the last image: the bar is complete, and the comparison can take a while on a large collection.
        if (started) bar.stop();
        started = false;
        stream.write(`comparing ${event.images} images with the collection for reprints…\n`);
      }
    },
    stop() {
      if (started) bar.stop();
    },
  };
}

export function createLogger(level: string): Logger {
  return pino({ level, base: { app: 'reprise' } });
}

/**
 * For people at a terminal: each log entry as its message, on stderr beside the progress bar,
 * instead of JSON lines. The bar's line is cleared first; it is drawn again on its next update.
 */
export function createTerminalLogger(level: string, stream: NodeJS.WriteStream = process.stderr): Logger {
  const clear = stream.isTTY ? '\r\x1b[K' : '';
  return pino(
    { level, base: undefined, timestamp: false },
    {
      write(line: string) {
        const entry = JSON.parse(line) as { level: number; msg?: string; err?: { message?: string } };
        const prefix = entry.level >= 50 ? 'error: ' : entry.level >= 40 ? 'warning: ' : '';
        const cause = entry.err?.message && !entry.msg?.includes(entry.err.message) ? ` (${entry.err.message})` : '';
        stream.write(`${clear}${prefix}${entry.msg ?? ''}${cause}\n`);
      },
    },
  );
}

export function formatSummary(s: HarvestSummary): string {
  const lines = [
    `harvest ${s.status} in ${(s.durationMs / 1000).toFixed(1)} s (run ${s.runId})`,
    `  manifests: ${s.manifests.new} new, ${s.manifests.changed} changed, ${s.manifests.unchanged} unchanged, ${s.manifests.failed} failed, ${s.manifests.removed} removed` +
      (s.manifests.moved ? `, ${s.manifests.moved} moved to a new address` : '') +
      (s.manifests.duplicates ? `, ${s.manifests.duplicates} duplicate URLs (indexed once)` : ''),
    `  collections: ${s.collections.fetched} read, ${s.collections.unchanged} unchanged, ${s.collections.failed} failed`,
    `  canvases:  ${s.canvases.added} added, ${s.canvases.imageChanged} with a new image, ${s.canvases.metadataChanged} with new metadata, ${s.canvases.removed} removed, ${s.canvases.skipped} skipped (no image)`,
    `  images:    ${s.images.indexed} indexed, ${s.images.unchanged} unchanged, ${s.images.failed} failed; ${s.images.downloaded} downloaded (${(s.images.bytes / 1e6).toFixed(1)} MB), ${s.images.notModified} not modified`,
    `  journal:   ${s.journal.indexed} indexed, ${s.journal.pending + s.journal.fetched} waiting, ${s.journal.failed} failed`,
  ];
  if (s.failures.length) {
    lines.push('  failures:');
    for (const f of s.failures.slice(0, 20)) lines.push(`    ${f.url}: ${f.reason}`);
    if (s.failures.length > 20) lines.push(`    … and ${s.failures.length - 20} more (reprise harvest-status --failures)`);
  }
  return lines.join('\n');
}
