/**
 * What the metadata of a manifest or canvas says in a form to facet on: values filed under facet
 * names by their labels (config facets.metadata), and a date from navDate or the metadata.
 */
import type { FacetsConfig } from '../../config/index.ts';
import type { LabelValue, LanguageMap } from '../iiif/types.ts';

const MAX_VALUE_LENGTH = 200;

const labelKey = (text: string) => text.trim().replace(/\s*:$/, '').replace(/\s+/g, ' ').toLowerCase();

/** The values of a language map in the preferred language: the first of `languages` it has, else "none", else its first. */
export function preferredValues(map: LanguageMap, languages: readonly string[]): string[] {
  for (const lang of [...languages, 'none']) {
    const values = map[lang as keyof LanguageMap];
    if (values?.length) return values;
  }
  // Language keys are normalised by the parser (en-GB and en are distinct): try the base language too.
  for (const lang of languages) {
    const key = Object.keys(map).find((k) => k.split('-')[0] === lang);
    if (key && map[key as keyof LanguageMap]?.length) return map[key as keyof LanguageMap]!;
  }
  return Object.values(map).find((v) => v.length) ?? [];
}

function labelsOf(entry: LabelValue): string[] {
  return Object.values(entry.label).flat().map(labelKey);
}

/** Facet name → values, from the entries whose label the configuration names; several values in one string are split at ";". */
export function metadataFacets(metadata: readonly LabelValue[], config: FacetsConfig): Record<string, string[]> {
  const byLabel = new Map(Object.entries(config.metadata).map(([label, name]) => [labelKey(label), name]));
  const out: Record<string, string[]> = {};
  for (const entry of metadata) {
    const name = labelsOf(entry).map((l) => byLabel.get(l)).find((n) => n !== undefined);
    if (!name) continue;
    const values = (out[name] ??= []);
    for (const raw of preferredValues(entry.value, config.languages)) {
      for (const part of raw.split(/\s*[;\n]\s*/)) {
        const value = part.trim().replace(/[.,]$/, '').slice(0, MAX_VALUE_LENGTH);
        if (value && !values.includes(value) && values.length < config.maxValues) values.push(value);
      }
    }
    if (!values.length) delete out[name];
  }
  return out;
}

const MONTHS = ['jan', 'feb', 'mar', 'apr', 'may', 'jun', 'jul', 'aug', 'sep', 'oct', 'nov', 'dec'];
const ISO_DATE = /^\s*(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?(?:[T ]|\s*$)/;

/**
 * The first date a text names, as an ISO 8601 date or a prefix of one (its start, for a range or a
 * decade): "1936-05-01", "May 5, 1936", "ca. 1900", "1900–1910", "1890s", "[1923?]", "19th century"
 * (1800). Undefined when it names none (years outside 1000–2100 are taken for numbers).
 */
export function parseDate(text: string): string | undefined {
  const iso = ISO_DATE.exec(text);
  if (iso && Number(iso[1]) >= 1000 && Number(iso[1]) <= 2100) {
    const [, y, m, d] = iso;
    if (m && Number(m) >= 1 && Number(m) <= 12) return d && Number(d) >= 1 && Number(d) <= 31 ? `${y}-${m}-${d}` : `${y}-${m}`;
    return y;
  }
  const lower = text.toLowerCase();
  const century = /\b(\d{1,2})(?:st|nd|rd|th)\s+(?:century|c\.|cent)/.exec(lower) ?? /\b(\d{1,2})(?:e|ème|\.)\s*(?:siècle|jahrhundert)/.exec(lower);
  const year = /(?<!\d)(1\d{3}|20\d{2}|2100)(?!\d)/.exec(lower);
  if (!year && century) {
    const c = Number(century[1]);
    if (c >= 11 && c <= 21) return String((c - 1) * 100);
  }
  if (!year) return undefined;
  const y = year[1]!;
  // A month named next to the year: "5 May 1936", "May 5, 1936", "May 1936".
  const around = lower.slice(Math.max(0, year.index - 16), year.index);
  const month = MONTHS.findIndex((m) => new RegExp(`\\b${m}[a-z]*\\.?\\b`).test(around));
  if (month >= 0) {
    const day = /\b(\d{1,2})\b/.exec(around.replace(/\b\d{4}\b/g, ''))?.[1];
    const mm = String(month + 1).padStart(2, '0');
    return day && Number(day) >= 1 && Number(day) <= 31 ? `${y}-${mm}-${day.padStart(2, '0')}` : `${y}-${mm}`;
  }
  return y;
}

/** A date from the metadata entries whose label is one of config.dateLabels, in their order. */
export function metadataDate(metadata: readonly LabelValue[], config: FacetsConfig): string | undefined {
  const wanted = new Set(config.dateLabels.map(labelKey));
  for (const entry of metadata) {
    if (!labelsOf(entry).some((l) => wanted.has(l))) continue;
    for (const value of preferredValues(entry.value, config.languages)) {
      const date = parseDate(value);
      if (date) return date;
    }
  }
  return undefined;
}

/** The decade and year of an ISO date (or prefix), for the date facets: "1930s", "1936". */
export function decadeAndYear(date: string | undefined): { decade: string; year: string } | undefined {
  const y = /^(\d{4})/.exec(date ?? '')?.[1];
  return y ? { decade: `${y.slice(0, 3)}0s`, year: y } : undefined;
}
