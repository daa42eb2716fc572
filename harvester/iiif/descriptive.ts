/**
 * Descriptive properties of a manifest or canvas, read straight from the
 * source document whatever its version: v3 names first, v2 names as fallback.
 * (Read from the source rather than from @iiif/parser's upgrade, which turns a
 * numeric v2 label into "" and an unrecognised licence into metadata.)
 */
import type { Descriptive, LabelValue } from './types.ts';
import { hasText, normaliseLanguageMap, readLabelValue, readMetadata } from './language.ts';
import { asList, isRecord, readUriLike, type IdContext, type JsonObject } from './util.ts';

export function readDescriptive(node: JsonObject, what: string, ctx: IdContext): Descriptive {
  const out: Descriptive = { label: normaliseLanguageMap(node['label']), metadata: readMetadata(node['metadata']) };
  const summary = normaliseLanguageMap(node['summary'] ?? node['description']);
  if (hasText(summary)) out.summary = summary;
  const rights = readRights(node);
  if (rights) out.rights = rights;
  const required = readRequiredStatement(node);
  if (required) out.requiredStatement = required;
  if (typeof node['navDate'] === 'string' && node['navDate'].trim()) out.navDate = node['navDate'].trim();
  const homepage = readUriLike(node['homepage'] ?? node['related'], `${what} homepage`, ctx);
  if (homepage) out.homepage = homepage;
  const thumbnail = readUriLike(node['thumbnail'], `${what} thumbnail`, ctx);
  if (thumbnail) out.thumbnail = thumbnail;
  return out;
}

/** v3 `rights` is one URI; v2 `license` may be a list, or even a language-mapped string. */
function readRights(node: JsonObject): string | undefined {
  for (const candidate of [...asList(node['rights']), ...asList(node['license'])]) {
    const raw = typeof candidate === 'string' ? candidate : isRecord(candidate) ? candidate['@id'] ?? candidate['id'] ?? candidate['@value'] : undefined;
    if (typeof raw === 'string' && raw.trim()) return raw.trim();
  }
  return undefined;
}

/** v3 requiredStatement, or v2 attribution presented the way the upgrade would. */
function readRequiredStatement(node: JsonObject): LabelValue | undefined {
  const v3 = readLabelValue(node['requiredStatement']);
  if (v3) return v3;
  const attribution = normaliseLanguageMap(node['attribution']);
  return hasText(attribution) ? { label: { none: ['Attribution'] }, value: attribution } : undefined;
}
