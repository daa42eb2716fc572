import { createWriteStream, existsSync, readFileSync, statSync, type WriteStream } from 'node:fs';
import { once } from 'node:events';
import type { Command } from 'commander';
import { withConfigOptions } from '../options.ts';
import { loadConfig, type RepriseConfig } from '../../config/index.ts';
import { CliError, EXIT } from '../exit.ts';

/** A file of annotations read whole: beyond this, V8 cannot hold it as one string; export it in pages instead. */
const MAX_FILE_BYTES = 512 * 1024 * 1024;
const SCAN_PAGE = 500;

interface ExportFlags {
  config?: string;
  dataDir?: string;
  manifest?: string[];
  collection?: string[];
  source?: string[];
  out?: string;
  idBase?: string;
}

interface ImportFlags {
  config?: string;
  dataDir?: string;
  manifest?: string;
  json?: boolean;
}

const collect = (value: string, previous: string[] | undefined): string[] => [...(previous ?? []), value];

function configOf(flags: { config?: string; dataDir?: string }): RepriseConfig {
  return loadConfig({ file: flags.config, overrides: flags.dataDir ? { dataDir: flags.dataDir } : {} });
}

/** Writes, waiting when the stream's buffer is full: a large export never sits whole in memory. */
async function write(out: WriteStream | NodeJS.WriteStream, text: string): Promise<void> {
  if (!out.write(text)) await once(out, 'drain');
}

/** All the selected items' vectors as one AnnotationPage, streamed to a file or stdout. */
export async function runExport(flags: ExportFlags): Promise<number> {
  const config = configOf(flags);
  const { openStore } = await import('../../store/index.ts');
  const { exportedModel, itemAnnotations } = await import('../../store/index.ts');
  const { regionOfItem } = await import('../../harvester/index.ts');
  const { EMBEDDINGS_CONTEXT, PRESENTATION_CONTEXT } = await import('../../store/index.ts');
  if (config.store.kind === 'embedded' && !existsSync(`${config.dataDir}/index/${config.store.index}.db`)) {
    throw new CliError(`no index in ${config.dataDir}/index: harvest with a model first, then export its embeddings`, EXIT.FATAL);
  }
  const store = await openStore(config.store, config.dataDir);
  const out = flags.out ? createWriteStream(flags.out) : process.stdout;
  try {
    const model = await exportedModel(store);
    const base = (flags.idBase ?? (config.api.publicUrl ? `${config.api.publicUrl.replace(/\/+$/, '')}/embeddings` : 'urn:reprise:embeddings')).replace(/\/+$/, '');
    const filter = {
      ...(flags.manifest?.length ? { manifest: flags.manifest } : {}),
      ...(flags.collection?.length ? { collection: flags.collection } : {}),
      ...(flags.source?.length ? { source: flags.source } : {}),
    };
    await write(out, `{"@context":${JSON.stringify([EMBEDDINGS_CONTEXT, PRESENTATION_CONTEXT])},"id":${JSON.stringify(base)},"type":"AnnotationPage","items":[`);
    let after: string | undefined;
    let count = 0;
    do {
      const page = await store.scan({ limit: SCAN_PAGE, filter, ...(after !== undefined ? { after } : {}) });
      for (const scanned of page.items) {
        const annotations = itemAnnotations(scanned, model, (id, ord) => `${base}/${id}/${ord === 0 ? 'image' : `region/${ord}`}`, (item) => regionOfItem(item)?.box);
        for (const annotation of annotations) {
          await write(out, `${count++ ? ',' : ''}\n${JSON.stringify(annotation)}`);
        }
      }
      after = page.next;
    } while (after !== undefined);
    await write(out, '\n]}\n');
    process.stderr.write(`reprise: exported ${count} embedding annotations (model ${model.name} ${model.version})${flags.out ? ` to ${flags.out}` : ''}\n`);
    return EXIT.OK;
  } finally {
    if (out !== process.stdout) {
      (out as WriteStream).end();
      await once(out as WriteStream, 'close');
    }
    await store.close();
  }
}

/** The model configured here, when its folder is in place: imported vectors must be its. Read from its files without loading it. */
async function configuredModelId(config: RepriseConfig): Promise<string | undefined> {
  const { modelFolder } = await import('../../models/index.ts');
  const { resolveModelFiles } = await import('../../models/index.ts');
  const { readModelConfig } = await import('../../models/index.ts');
  const folder = modelFolder(config.models, config.dataDir);
  if (!existsSync(folder)) return undefined;
  try {
    return readModelConfig(resolveModelFiles(folder, { variant: config.models.variant })).modelId;
  } catch {
    // Not a CLIP-family folder (an image classifier) or a broken one: the index's own model still decides.
    return undefined;
  }
}

export async function runImport(input: string, flags: ImportFlags): Promise<number> {
  const config = configOf(flags);
  const { openStore } = await import('../../store/index.ts');
  const { createHttpClient, HttpError } = await import('../../common/index.ts');
  const { importEmbeddings, EmbeddingModelMismatchError } = await import('../../harvester/index.ts');
  const { EmbeddingAnnotationError } = await import('../../store/index.ts');
  const isUrl = /^https?:\/\//i.test(input);
  let json: unknown;
  if (!isUrl) {
    if (!existsSync(input) || !statSync(input).isFile()) throw new CliError(`${input}: no such file; give an annotations file or the URL of an AnnotationPage`, EXIT.FATAL);
    if (statSync(input).size > MAX_FILE_BYTES) throw new CliError(`${input} is larger than ${MAX_FILE_BYTES} bytes: export in pages (GET /embeddings) and import the first page's URL`, EXIT.FATAL);
    try {
      json = JSON.parse(readFileSync(input, 'utf8'));
    } catch (err) {
      throw new CliError(`${input} is not JSON: ${(err as Error).message}`, EXIT.FATAL);
    }
  }
  const modelId = await configuredModelId(config);
  const store = await openStore(config.store, config.dataDir);
  const http = createHttpClient(config.harvest.http);
  try {
    const report = await importEmbeddings(isUrl ? { url: input } : { json }, {
      store,
      http,
      ...(modelId ? { modelId } : {}),
      imageSize: config.harvest.imageSize,
      facets: config.facets,
      source: isUrl ? input : (typeof (json as { id?: unknown })?.id === 'string' ? (json as { id: string }).id : `file:${input}`),
      ...(flags.manifest ? { manifest: flags.manifest } : {}),
    });
    if (flags.json) process.stdout.write(JSON.stringify(report, null, 2) + '\n');
    else {
      process.stdout.write(
        `imported ${report.items} items (${report.regions} regions) of model ${report.modelId ?? '–'} from ${report.annotations} annotations in ${report.pages} pages; ` +
          `${report.manifestsFetched} manifests read; ${report.skipped} skipped\n`,
      );
      for (const s of report.skips) process.stdout.write(`  skipped ${s.target}: ${s.reason}\n`);
    }
    return report.skipped > 0 ? EXIT.SOME_FAILED : EXIT.OK;
  } catch (err) {
    if (err instanceof EmbeddingModelMismatchError || err instanceof EmbeddingAnnotationError || err instanceof HttpError) throw new CliError(err.message, EXIT.FATAL);
    throw err;
  } finally {
    await http.close();
    await store.close();
  }
}

export function registerEmbeddings(program: Command): void {
  const embeddings = program.command('embeddings').description('share the index\'s vectors as IIIF embedding annotations, or index another portal\'s');
  withConfigOptions(embeddings.command('export'))
    .description('write the vectors of the selected items (whole images and regions) as one AnnotationPage of embedding annotations')
    .option('--manifest <url>', 'only this manifest (id or URL); repeat for several', collect)
    .option('--collection <label>', 'only this collection; repeat for several', collect)
    .option('--source <url>', 'only this harvest source; repeat for several', collect)
    .option('-o, --out <file>', 'write to this file instead of stdout')
    .option('--id-base <url>', 'what annotation ids start with (default: api.publicUrl + /embeddings, else urn:reprise:embeddings)')
    .addHelpText('after', `
Examples:
  reprise embeddings export --manifest https://example.org/iiif/m1/manifest.json -o m1-embeddings.json
  reprise embeddings export --collection "Photographs" > photographs.json`)
    .action(async (flags: ExportFlags) => {
      process.exitCode = await runExport(flags);
    });
  withConfigOptions(embeddings.command('import'))
    .argument('<file-or-url>', 'a file of embedding annotations, or the URL of a page of them (its next pages are followed)')
    .description('index embeddings another portal published, without computing them: refused unless they come from this index\'s model')
    .option('--manifest <url>', 'the manifest of annotations whose target names none (no partOf)')
    .option('--json', 'print the report as JSON')
    .addHelpText('after', `
Examples:
  reprise embeddings import https://portal.example.org/api/embeddings?collection=Photographs
  reprise embeddings import m1-embeddings.json --json`)
    .action(async (input: string, flags: ImportFlags) => {
      process.exitCode = await runImport(input, flags);
    });
}
