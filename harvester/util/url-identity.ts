/**
 * When two URLs name the same thing for the index. A fragment is never sent to a server, so
 * `m.json` and `m.json#p2` are one document. And a folder this server publishes itself is
 * reached at its own address, which changes with --port or a restart behind another name: URLs
 * under such a base are identified by what follows it, so that its items keep their ids.
 */

/** The URL without its #fragment: what is fetched, and what the journal keys documents by. */
export function withoutFragment(url: string): string {
  const hash = url.indexOf('#');
  return hash < 0 ? url : url.slice(0, hash);
}

const PUBLISHED = 'reprise-published:';

/** Maps URLs under the published bases (origin and path, no trailing slash) to a key that does not depend on them. */
export class UrlIdentity {
  private readonly bases: string[];

  constructor(publishedBases: readonly string[] = []) {
    const cleaned = publishedBases.map((b) => b.replace(/\/+$/, '')).filter((b) => b.length > 0);
    // Longest first, so that a base with a path wins over its origin.
    this.bases = [...new Set(cleaned)].sort((a, b) => b.length - a.length);
  }

  /** The identity of a URL (or of an id that is not a URL: returned as it is). */
  of(url: string): string {
    for (const base of this.bases) {
      if (url === base || url.startsWith(`${base}/`) || url.startsWith(`${base}?`) || url.startsWith(`${base}#`)) return `${PUBLISHED}${url.slice(base.length)}`;
    }
    return url;
  }
}

/**
 * Which of two URLs of one manifest (`id`: the id the manifest gives itself) indexes it: the one
 * equal to the id, else the shorter, else the first in code-point order. A total order, so the
 * choice depends neither on which answered first nor on what an earlier run chose.
 */
export function preferredManifestUrl(a: string, b: string, id: string): number {
  const rank = (url: string) => (url === id ? 0 : 1);
  return rank(a) - rank(b) || a.length - b.length || (a < b ? -1 : a > b ? 1 : 0);
}
