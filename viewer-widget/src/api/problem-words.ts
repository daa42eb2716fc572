/**
 * Errors as a patron reads them. The API's problems are written for whoever runs the server
 * ("no model is loaded: run `npx reprise models pull …`"): for the problems a reader can do
 * nothing about, the elements show a sentence of their own and leave the server's words to the
 * console (and the `reprise-error` event), where the portal's team finds them. Problems about what
 * the reader gave (an image that cannot be read, an address that cannot be fetched) keep the
 * server's words, which say what to change.
 */
import type { Strings } from '../i18n/strings.ts';
import type { Problem } from './types.ts';

/** Problem types (after `urn:reprise:problem:`) the reader can do nothing about, and how to say them. */
const FOR_PATRONS: Record<string, (s: Strings) => string> = {
  'model-unavailable': (s) => s.imageSearchUnavailable,
  'no-text-tower': (s) => s.imageSearchUnavailable,
  'not-embedded': (s) => s.notComparableYet,
  'store-unavailable': (s) => s.serviceUnavailable,
  'encoder-timeout': (s) => s.serviceUnavailable,
  'store-timeout': (s) => s.serviceUnavailable,
  'rate-limited': (s) => s.serviceUnavailable,
  'internal-error': (s) => s.serviceUnavailable,
  network: (s) => s.serviceUnreachable,
};

/** What an element shows for a problem: a title and a sentence. */
export function problemForPatrons(problem: Problem, s: Strings): { title: string; detail: string } {
  const kind = problem.type.replace(/^urn:reprise:problem:/, '');
  const words = FOR_PATRONS[kind] ?? (problem.status >= 500 || problem.status === 0 ? FOR_PATRONS['internal-error'] : undefined);
  return words ? { title: s.error, detail: words(s) } : { title: `${s.error}: ${problem.title}`, detail: problem.detail };
}

/** The server's own words, for the portal's team: once per problem shown. */
export function logProblem(element: string, problem: Problem): void {
  console.warn(`${element}: ${problem.title} (${problem.status}): ${problem.detail}`);
}
