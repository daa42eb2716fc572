/**
 * CORS for a public Image API: any origin may read images, info.json and manifests (the
 * Image API's `cors` feature), and the Link header with the canonical and profile URIs is
 * exposed to scripts. Preflight requests are answered here.
 */
import type { Request, Response } from 'express';

const EXPOSED = 'Link, ETag, Last-Modified, Content-Length, Retry-After';
const PREFLIGHT_MAX_AGE_SECONDS = 86_400;

export function setCors(res: Response): void {
  res.setHeader('Access-Control-Allow-Origin', '*');
  res.setHeader('Access-Control-Expose-Headers', EXPOSED);
}

/** Answers an OPTIONS preflight; returns whether it did. */
export function answerPreflight(req: Request, res: Response): boolean {
  if (req.method !== 'OPTIONS') return false;
  setCors(res);
  res.setHeader('Access-Control-Allow-Methods', 'GET, HEAD, OPTIONS');
  const asked = req.get('Access-Control-Request-Headers');
  if (asked) res.setHeader('Access-Control-Allow-Headers', asked);
  res.setHeader('Access-Control-Max-Age', String(PREFLIGHT_MAX_AGE_SECONDS));
  res.setHeader('Allow', 'GET, HEAD, OPTIONS');
  res.status(204).end();
  return true;
}
