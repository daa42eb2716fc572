/**
 * Rights statements as one value per licence: whatever a manifest wrote (an HTML link, http or
 * https, with or without the trailing slash, a `deed.en` page), Creative Commons and
 * RightsStatements.org URIs become their canonical URI, and those get their names for display.
 */
import { toPlainText } from '../iiif/language.ts';

const CC = /^https?:\/\/(?:www\.)?creativecommons\.org\/(licenses|publicdomain)\/([a-z-]+)\/(\d+(?:\.\d+)?)(?:\/([a-z]{2}(?:-[a-z]{2})?))?/i;
const RS = /^https?:\/\/(?:www\.)?rightsstatements\.org\/(?:vocab|page)\/([A-Za-z-]+)\/(\d+(?:\.\d+)?)/i;

const RIGHTS_STATEMENTS: Record<string, string> = {
  InC: 'In Copyright',
  'InC-OW-EU': 'In Copyright – EU Orphan Work',
  'InC-EDU': 'In Copyright – Educational Use Permitted',
  'InC-NC': 'In Copyright – Non-Commercial Use Permitted',
  'InC-RUU': 'In Copyright – Rights-holder(s) Unlocatable or Unidentifiable',
  'NoC-CR': 'No Copyright – Contractual Restrictions',
  'NoC-NC': 'No Copyright – Non-Commercial Use Only',
  'NoC-OKLR': 'No Copyright – Other Known Legal Restrictions',
  'NoC-US': 'No Copyright – United States',
  CNE: 'Copyright Not Evaluated',
  UND: 'Copyright Undetermined',
  NKC: 'No Known Copyright',
};
const RS_BY_LOWER = new Map(Object.keys(RIGHTS_STATEMENTS).map((k) => [k.toLowerCase(), k]));

/** The first link of an HTML fragment, or the text itself. */
function firstUri(raw: string): string {
  const href = /<a\b[^>]*\bhref\s*=\s*["']([^"']+)["']/i.exec(raw)?.[1];
  if (href) return href.trim();
  const text = toPlainText(raw);
  const url = /https?:\/\/[^\s"'<>]+/i.exec(text)?.[0];
  return (url ?? text).trim();
}

/**
 * The rights value to index: the canonical URI of a Creative Commons licence or tool
 * (https://creativecommons.org/licenses/by/4.0/) or RightsStatements.org statement
 * (http://rightsstatements.org/vocab/InC/1.0/, the scheme their URIs are minted with); any other
 * URI as given; text without markup otherwise. Undefined when nothing is left.
 */
export function normaliseRights(raw: string | undefined): string | undefined {
  if (!raw) return undefined;
  const value = firstUri(raw);
  const cc = CC.exec(value);
  if (cc) return `https://creativecommons.org/${cc[1]!.toLowerCase()}/${cc[2]!.toLowerCase()}/${cc[3]}/${cc[4] ? `${cc[4].toLowerCase()}/` : ''}`;
  const rs = RS.exec(value);
  if (rs) {
    const code = RS_BY_LOWER.get(rs[1]!.toLowerCase());
    if (code) return `http://rightsstatements.org/vocab/${code}/${rs[2]}/`;
  }
  return value || undefined;
}

/** The name of a licence or statement (after normaliseRights), for people; undefined for others. */
export function rightsName(uri: string): string | undefined {
  const cc = CC.exec(uri);
  if (cc) {
    const kind = cc[2]!.toLowerCase();
    const version = cc[3]!;
    const port = cc[4] ? ` ${cc[4].toUpperCase()}` : '';
    if (kind === 'zero') return `CC0 ${version} Universal`;
    if (kind === 'mark') return `Public Domain Mark ${version}`;
    return `CC ${kind.toUpperCase()} ${version}${port}`;
  }
  const rs = RS.exec(uri);
  if (rs) {
    const code = RS_BY_LOWER.get(rs[1]!.toLowerCase());
    if (code) return RIGHTS_STATEMENTS[code];
  }
  return undefined;
}
