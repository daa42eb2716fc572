/**
 * A one-shot process that loads the model in argv[2], embeds a text and prints its dimension:
 * what a CLI command does. It must exit by itself, with 0, once the work is done.
 */
import os from 'node:os';
import { modelsSchema } from '../../config/schema.ts';
import { loadEncoders } from '../../models/index.ts';

const enc = await loadEncoders(modelsSchema.parse({ path: process.argv[2], threads: 1, batchSize: 4 }), os.tmpdir());
const [vector] = await enc.text!.embed(['a photograph']);
process.stdout.write(`${vector!.length}\n`);
await enc.close();
process.stdout.write('closed\n');
