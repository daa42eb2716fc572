/**
 * Labels, summaries and metadata come in every shape real publishers could
 * think of: v3 language maps, v2 strings, lists of strings, `{@value,
 * @language}` objects, numbers, and language keys like "@none", "" or "EN_us".
 * Everything here reduces them to one LanguageMap of plain-text strings.
 */
import type { LabelValue, LanguageMap } from './types.ts';
import { asList, isRecord } from './util.ts';

/** Bounds so that a hostile document cannot make one label enormous. */
const MAX_VALUES_PER_MAP = 1000;
const MAX_CHARS_PER_VALUE = 65_536;
const MAX_METADATA_ENTRIES = 1000;

/** Language keys that look like BCP 47 (primary subtag plus optional subtags), or private use. */
const BCP47_LIKE = /^(?:[a-z]{2,8}|[xi])(?:-[a-z0-9]{1,8})*$/i;

/** Maps a language key to itself when it looks like BCP 47, else to "none". */
export function normaliseLanguageKey(key: unknown): string {
  if (typeof key !== 'string') return 'none';
  // "en_US" is a common slip for "en-US"; fix it rather than lose the language.
  const candidate = key.trim().replace(/_/g, '-');
  if (candidate === '' || candidate.toLowerCase() === 'none' || candidate === '@none') return 'none';
  return BCP47_LIKE.test(candidate) ? candidate : 'none';
}

/**
 * Normalises any v2 or v3 label/value into a LanguageMap. Values become plain
 * text (see toPlainText); empty strings are dropped; an unusable input gives {}.
 */
export function normaliseLanguageMap(value: unknown): LanguageMap {
  const map: LanguageMap = {};
  let count = 0;
  const add = (language: unknown, text: unknown): void => {
    if (count >= MAX_VALUES_PER_MAP) return;
    const plain = scalarToText(text);
    if (plain === undefined) return;
    const key = normaliseLanguageKey(language);
    (map[key] ??= []).push(plain);
    count++;
  };
  collect(value, add, 0);
  return map;
}

type Add = (language: unknown, text: unknown) => void;

/** Walks the accepted shapes; depth-limited because lists may nest in broken data. */
function collect(value: unknown, add: Add, depth: number): void {
  if (depth > 3 || value === undefined || value === null) return;
  if (Array.isArray(value)) {
    for (const item of value) collect(item, add, depth + 1);
  } else if (isRecord(value)) {
    if ('@value' in value || '@language' in value) {
      // v2 literal: {"@value": "...", "@language": "en"}; a missing @value means nothing to say.
      add(value['@language'], value['@value']);
    } else {
      for (const [language, texts] of Object.entries(value)) {
        for (const text of asList(texts)) add(language, text);
      }
    }
  } else {
    add('none', value);
  }
}

function scalarToText(value: unknown): string | undefined {
  let text: string;
  if (typeof value === 'string') text = value;
  else if (typeof value === 'number' && Number.isFinite(value)) text = String(value);
  else if (typeof value === 'boolean') text = String(value);
  else return undefined;
  const plain = toPlainText(text.length > MAX_CHARS_PER_VALUE ? text.slice(0, MAX_CHARS_PER_VALUE) : text);
  return plain === '' ? undefined : plain;
}

/** Elements whose content is never text a person should see. */
const DROP_WITH_CONTENT = /<(script|style|iframe|object|embed|noscript|template|svg|math)\b[^>]*>[\s\S]*?(?:<\/\1\s*>|$)/gi;
const COMMENT = /<!--[\s\S]*?(?:-->|$)/g;
/** A tag-shaped piece of text: `<name ...>` or `</name>` or `<name/>`. */
const TAG = /<\/?([a-zA-Z][a-zA-Z0-9:-]*)((?:\s[^<>]*)?)\/?>/g;
/** Tags that separate blocks of text: replaced by a line break, not glued together. */
const BLOCK_TAGS = new Set(['br', 'p', 'div', 'li', 'ul', 'ol', 'tr', 'table', 'h1', 'h2', 'h3', 'h4', 'h5', 'h6', 'blockquote', 'section', 'article', 'dd', 'dt', 'dl', 'hr', 'pre']);
/** HTML elements we recognise as markup (others, like "<x>", may just be text with angle brackets). */
const KNOWN_TAGS = new Set([
  ...BLOCK_TAGS, 'a', 'abbr', 'b', 'big', 'body', 'button', 'caption', 'center', 'cite', 'code', 'col', 'colgroup',
  'del', 'em', 'figcaption', 'figure', 'font', 'footer', 'form', 'head', 'header', 'html', 'i', 'img', 'input',
  'ins', 'kbd', 'label', 'link', 'mark', 'meta', 'nav', 'q', 's', 'samp', 'small', 'source', 'span', 'strike',
  'strong', 'sub', 'sup', 'tbody', 'td', 'tfoot', 'th', 'thead', 'time', 'title', 'u', 'var', 'wbr', 'base',
  'audio', 'video', 'frame', 'frameset', 'applet', 'textarea', 'select', 'option', 'iframe', 'script', 'style',
  'object', 'embed', 'svg', 'math', 'noscript', 'template',
]);

/**
 * Turns a metadata value that may contain HTML into plain text. The harvester
 * stores text, never markup, so that nothing it stores can run in a browser that
 * forgets to escape it: scripts, styles and comments are dropped with their
 * content, known tags are removed (block tags become line breaks), and any other
 * tag-shaped text with attributes (`<x onmouseover=...>`) is removed too.
 * Angle brackets that are plainly text ("<x> <y> <plain text>") are kept.
 */
export function toPlainText(input: string): string {
  if (!/[<&]/.test(input)) return input.trim();
  let text = input.replace(COMMENT, ' ').replace(DROP_WITH_CONTENT, ' ');
  // Unknown elements removed for their attributes lose their closing tags too.
  const removedUnknown = new Set<string>();
  text = text.replace(TAG, (whole: string, name: string, attributes: string) => {
    const lower = name.toLowerCase();
    if (KNOWN_TAGS.has(lower)) return BLOCK_TAGS.has(lower) ? '\n' : '';
    if (whole.startsWith('</')) return removedUnknown.has(lower) ? '' : whole;
    if (!attributes.includes('=')) return whole;
    removedUnknown.add(lower);
    return '';
  });
  text = decodeEntities(text);
  // Entities can smuggle markup back in ("&lt;script&gt;"): drop what is dangerous once more.
  text = text.replace(COMMENT, ' ').replace(DROP_WITH_CONTENT, ' ');
  return text
    .replace(/[ \t\f\v\u00a0]+/g, ' ')
    .replace(/ *\n[\s]*/g, '\n')
    .trim();
}

const NAMED_ENTITIES: Record<string, string> = {
  amp: '&', lt: '<', gt: '>', quot: '"', apos: "'", nbsp: ' ', ndash: '–', mdash: '—',
  hellip: '…', laquo: '«', raquo: '»', copy: '©', reg: '®', eacute: 'é', egrave: 'è',
  auml: 'ä', ouml: 'ö', uuml: 'ü', szlig: 'ß', rsquo: '’', lsquo: '‘', rdquo: '”', ldquo: '“',
};

function decodeEntities(text: string): string {
  return text.replace(/&(#x[0-9a-f]{1,6}|#\d{1,7}|[a-z]{2,8});/gi, (whole, body: string) => {
    if (body[0] === '#') {
      const code = body[1] === 'x' || body[1] === 'X' ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
      return code > 0 && code <= 0x10ffff && (code < 0xd800 || code > 0xdfff) ? String.fromCodePoint(code) : whole;
    }
    return NAMED_ENTITIES[body.toLowerCase()] ?? whole;
  });
}

/** True when the map has at least one string. */
export function hasText(map: LanguageMap): boolean {
  return Object.values(map).some((values) => values.length > 0);
}

/** One label/value pair; undefined when the value says nothing (a label alone is no metadata). */
export function readLabelValue(entry: unknown): LabelValue | undefined {
  if (!isRecord(entry)) return undefined;
  const value = normaliseLanguageMap(entry['value']);
  if (!hasText(value)) return undefined;
  return { label: normaliseLanguageMap(entry['label']), value };
}

/** A metadata list (v2 or v3); entries that say nothing are dropped. */
export function readMetadata(value: unknown): LabelValue[] {
  const out: LabelValue[] = [];
  for (const entry of asList(value)) {
    if (out.length >= MAX_METADATA_ENTRIES) break;
    const pair = readLabelValue(entry);
    if (pair) out.push(pair);
  }
  return out;
}
