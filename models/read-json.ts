import { readFileSync } from 'node:fs';
import { ModelFolderError } from './types.ts';

/** A JSON object file of a model folder; anything else is a ModelFolderError naming the file. */
export function readModelJson(file: string): Record<string, unknown> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ModelFolderError(`cannot read ${file}: ${(err as Error).message}`, file);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    throw new ModelFolderError(`${file} is not valid JSON: ${(err as Error).message}`, file);
  }
  if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new ModelFolderError(`${file}: the top level must be a JSON object`, file);
  return parsed as Record<string, unknown>;
}
