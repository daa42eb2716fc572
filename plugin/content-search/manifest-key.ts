/**
 * A manifest's key in Content Search URLs: the base64url (RFC 4648 §5, no padding) of its id, so
 * any manifest id, with slashes, query strings or non-ASCII characters, fits in one path segment.
 */
export function manifestKey(manifestId: string): string {
  return Buffer.from(manifestId, 'utf8').toString('base64url');
}

const KEY = /^[A-Za-z0-9_-]{1,5600}$/;

/** The manifest id behind a key, or undefined when the key is not one manifestKey() makes. */
export function manifestIdFromKey(key: string): string | undefined {
  if (!KEY.test(key)) return undefined;
  const id = Buffer.from(key, 'base64url').toString('utf8');
  // Canonical keys only: one manifest, one URL (no padding variants, no stray bits, valid UTF-8).
  if (!id || manifestKey(id) !== key) return undefined;
  // eslint-disable-next-line no-control-regex
  if (/[\u0000-\u001f\u007f]/.test(id)) return undefined;
  return id;
}
