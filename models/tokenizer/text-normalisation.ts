/**
 * Text cleaning that some models' reference tokenizers do in Python, before (or instead of)
 * what tokenizer.json's own normalizer does, and that must be repeated here for queries to
 * become the ids the model was trained on:
 *
 * - SigLIP (transformers' SiglipTokenizer): punctuation removed and whitespace collapsed
 *   (canonicalize_text, from big_vision), lowercased when do_lower_case (its default).
 * - OpenCLIP's tokenizers, as `text_cfg.tokenizer_kwargs.clean` names it: "canonicalize"
 *   ('_' to a space, punctuation removed, lowercased, whitespace collapsed), "lower"
 *   (lowercased, whitespace collapsed), "whitespace" (whitespace collapsed).
 *
 * Punctuation is Python's string.punctuation: the 32 ASCII marks, nothing else. open_clip also
 * runs ftfy.fix_text and html.unescape first; those repair mojibake and entities, which typed
 * queries do not have, and are not repeated.
 */

export interface TextNormalisation {
  lowercase: boolean;
  stripPunctuation: boolean;
  /** open_clip's canonicalize turns '_' into a space before removing punctuation. */
  underscoreToSpace: boolean;
  /** Runs of whitespace become one space; ends are trimmed. */
  collapseWhitespace: boolean;
}

export const NO_NORMALISATION: TextNormalisation = { lowercase: false, stripPunctuation: false, underscoreToSpace: false, collapseWhitespace: false };

/** OpenCLIP's `tokenizer_kwargs.clean` values. */
export const OPENCLIP_CLEAN: Record<'canonicalize' | 'lower' | 'whitespace', TextNormalisation> = {
  canonicalize: { lowercase: true, stripPunctuation: true, underscoreToSpace: true, collapseWhitespace: true },
  lower: { lowercase: true, stripPunctuation: false, underscoreToSpace: false, collapseWhitespace: true },
  whitespace: { lowercase: false, stripPunctuation: false, underscoreToSpace: false, collapseWhitespace: true },
};

/** transformers' SiglipTokenizer: canonicalize_text always, lowercasing as do_lower_case says. */
export function siglipNormalisation(doLowerCase: boolean): TextNormalisation {
  return { lowercase: doLowerCase, stripPunctuation: true, underscoreToSpace: false, collapseWhitespace: true };
}

const PUNCTUATION = /[!"#$%&'()*+,\-./:;<=>?@[\\\]^_`{|}~]/g;

export function normaliseText(text: string, n: TextNormalisation): string {
  let out = text;
  if (n.underscoreToSpace) out = out.replaceAll('_', ' ');
  if (n.stripPunctuation) out = out.replace(PUNCTUATION, '');
  if (n.lowercase) out = out.toLowerCase();
  if (n.collapseWhitespace) out = out.replace(/\s+/g, ' ').trim();
  return out;
}

export function isIdentity(n: TextNormalisation): boolean {
  return !n.lowercase && !n.stripPunctuation && !n.underscoreToSpace && !n.collapseWhitespace;
}
