/** The plugin's settings, as a page author gives them, checked with messages that say what to give. */
import type { OtherManifestMode } from './open-hit-mode.ts';

export interface RepriseMiradorSettings {
  /** Base URL of the Reprise API, e.g. "https://example.org/api". */
  api: string;
  /** Language of the search element; Mirador's `language` when absent (French if it is French, else English). */
  lang?: 'en' | 'fr';
  /** Hits per page. */
  limit?: number;
  /** Where a hit from a manifest that no window shows opens (default: a new window). */
  otherManifest?: OtherManifestMode;
  /** The relevance cut-off of the search element (its `min-score`): "auto" (default), "none", or a score. */
  minScore?: 'auto' | 'none' | number;
}

export class RepriseMiradorConfigError extends Error {
  override name = 'RepriseMiradorConfigError';
}

/** Checks settings given by a page author; every message names the setting and what to give. */
export function checkSettings(settings: unknown): RepriseMiradorSettings {
  if (!settings || typeof settings !== 'object') {
    throw new RepriseMiradorConfigError('Reprise for Mirador: give the settings as an object, e.g. { api: "https://example.org/api" }');
  }
  const s = settings as Record<string, unknown>;
  if (typeof s.api !== 'string' || s.api.trim() === '') {
    throw new RepriseMiradorConfigError('Reprise for Mirador: "api" is required: the base URL of the Reprise API, e.g. "/api" or "https://example.org/api"');
  }
  if (s.lang !== undefined && s.lang !== 'en' && s.lang !== 'fr') {
    throw new RepriseMiradorConfigError(`Reprise for Mirador: "lang" must be "en" or "fr" (got ${JSON.stringify(s.lang)})`);
  }
  if (s.limit !== undefined && !(Number.isInteger(s.limit) && (s.limit as number) >= 1 && (s.limit as number) <= 100)) {
    throw new RepriseMiradorConfigError(`Reprise for Mirador: "limit" must be a whole number from 1 to 100 (got ${JSON.stringify(s.limit)})`);
  }
  if (s.otherManifest !== undefined && s.otherManifest !== 'new-window' && s.otherManifest !== 'same-window') {
    throw new RepriseMiradorConfigError(`Reprise for Mirador: "otherManifest" must be "new-window" or "same-window" (got ${JSON.stringify(s.otherManifest)})`);
  }
  if (s.minScore !== undefined && s.minScore !== 'auto' && s.minScore !== 'none' && !(typeof s.minScore === 'number' && Number.isFinite(s.minScore))) {
    throw new RepriseMiradorConfigError(`Reprise for Mirador: "minScore" must be "auto", "none" or a number (got ${JSON.stringify(s.minScore)})`);
  }
  return {
    api: s.api.trim(),
    ...(s.lang ? { lang: s.lang as 'en' | 'fr' } : {}),
    ...(s.limit !== undefined ? { limit: s.limit as number } : {}),
    ...(s.otherManifest ? { otherManifest: s.otherManifest as OtherManifestMode } : {}),
    ...(s.minScore !== undefined ? { minScore: s.minScore as RepriseMiradorSettings['minScore'] } : {}),
  };
}
