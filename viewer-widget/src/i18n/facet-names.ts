/**
 * What a facet is called for a reader: the server's configured name in the reader's language
 * (config facets.names, sent by GET /facets), else the widget's own word in it, else the
 * configured English name, else the widget's English word, else the field's own name.
 */
import type { FacetNames } from '../api/types.ts';
import { LANGUAGES, t } from './strings.ts';

/** The value of a language map for `lang`: the exact tag, else the same primary language (fr for fr-CA, fr-CA for fr). */
function inLanguage(names: Record<string, string> | undefined, lang: string): string | undefined {
  if (!names) return undefined;
  const tag = lang.toLowerCase();
  const primary = tag.split('-')[0];
  const entries = Object.entries(names);
  return entries.find(([k]) => k.toLowerCase() === tag)?.[1] ?? entries.find(([k]) => k.toLowerCase().split('-')[0] === primary)?.[1];
}

export function facetName(field: string, lang: string, configured: FacetNames = {}): string {
  const own = configured[field];
  const primary = lang.toLowerCase().split('-')[0] ?? '';
  // t() answers English for a language it has no table for: only a table of the reader's language counts here.
  const widgetWord = LANGUAGES.includes(primary) ? t(lang).facetNames[field] : undefined;
  return inLanguage(own, lang) ?? widgetWord ?? inLanguage(own, 'en') ?? t('en').facetNames[field] ?? (field.startsWith('meta.') ? field.slice(5) : field);
}
