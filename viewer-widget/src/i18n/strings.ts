/**
 * Every string the elements show, in English and French. Elements call `t(lang)` once per
 * render; a missing language falls back to English, so adding one is adding a table here.
 */

const en = {
  searchLabel: 'Search the images',
  searchPlaceholder: 'Describe what you are looking for',
  searchButton: 'Search',
  filters: 'Filters',
  clearFilters: 'Clear filters',
  facetNames: { manifest: 'Manifest', collection: 'Collection', rights: 'Rights', labels: 'Tags', source: 'Source' } as Record<string, string>,
  loading: 'Searching…',
  loadingFilters: 'Loading filters…',
  noResults: 'No results. Try other words or fewer filters.',
  results: (from: number, to: number, total?: number) =>
    total === undefined ? `Results ${from}–${to}` : `Results ${from}–${to} of ${total > 999 ? 'about ' : ''}${total}`,
  regionQuery: 'Searching with the box drawn on the image',
  feedbackQuery: (pos: number, neg: number) => `Searching with ${pos} liked and ${neg} disliked result${pos + neg === 1 ? '' : 's'}`,
  pagination: 'Result pages',
  previous: 'Previous page',
  next: 'Next page',
  score: 'Score',
  open: 'Open',
  openHit: (label: string) => `Open ${label}`,
  markPositive: 'More like this',
  markNegative: 'Less like this',
  searchAgain: (pos: number, neg: number) => `Search again (${pos} +, ${neg} −)`,
  clearMarks: 'Clear marks',
  needPositive: 'Mark at least one result with + to search again.',
  error: 'The search failed',
  retry: 'Try again',
  rights: 'Rights',
  untitled: 'Untitled',
  similar: 'Similar items',
  reprints: 'Reprints',
  noSimilar: 'No similar items.',
  noReprints: 'No reprints found.',
  reprintsUnavailable: 'Reprint detection is not available on this server.',
  chooseCanvas: 'Choose an image to see similar items and reprints.',
  matchingPoints: (n: number) => `${n} matching point${n === 1 ? '' : 's'}`,
  compare: 'Compare side by side',
  matchedRegion: 'matched region',
  more: 'Show more',
  drawBox: 'Search a region',
  drawHint: 'Drag to draw a box on the image. Enter searches the visible area, Escape cancels.',
  closeCompare: 'Close the comparison',
  queryImage: 'Your image',
};

export type Strings = typeof en;

const fr: Strings = {
  searchLabel: 'Rechercher dans les images',
  searchPlaceholder: 'Décrivez ce que vous cherchez',
  searchButton: 'Rechercher',
  filters: 'Filtres',
  clearFilters: 'Effacer les filtres',
  facetNames: { manifest: 'Manifeste', collection: 'Collection', rights: 'Droits', labels: 'Étiquettes', source: 'Source' },
  loading: 'Recherche en cours…',
  loadingFilters: 'Chargement des filtres…',
  noResults: 'Aucun résultat. Essayez d’autres mots ou moins de filtres.',
  results: (from, to, total) =>
    total === undefined ? `Résultats ${from} à ${to}` : `Résultats ${from} à ${to} sur ${total > 999 ? 'environ ' : ''}${total}`,
  regionQuery: 'Recherche avec le cadre tracé sur l’image',
  feedbackQuery: (pos, neg) => `Recherche avec ${pos} résultat${pos > 1 ? 's' : ''} apprécié${pos > 1 ? 's' : ''} et ${neg} écarté${neg > 1 ? 's' : ''}`,
  pagination: 'Pages de résultats',
  previous: 'Page précédente',
  next: 'Page suivante',
  score: 'Score',
  open: 'Ouvrir',
  openHit: (label) => `Ouvrir ${label}`,
  markPositive: 'Plus comme ceci',
  markNegative: 'Moins comme ceci',
  searchAgain: (pos, neg) => `Relancer la recherche (${pos} +, ${neg} −)`,
  clearMarks: 'Effacer les marques',
  needPositive: 'Marquez au moins un résultat avec + pour relancer la recherche.',
  error: 'La recherche a échoué',
  retry: 'Réessayer',
  rights: 'Droits',
  untitled: 'Sans titre',
  similar: 'Images similaires',
  reprints: 'Réimpressions',
  noSimilar: 'Aucune image similaire.',
  noReprints: 'Aucune réimpression trouvée.',
  reprintsUnavailable: 'La détection des réimpressions n’est pas disponible sur ce serveur.',
  chooseCanvas: 'Choisissez une image pour voir les images similaires et les réimpressions.',
  matchingPoints: (n) => `${n} point${n > 1 ? 's' : ''} concordant${n > 1 ? 's' : ''}`,
  compare: 'Comparer côte à côte',
  matchedRegion: 'zone concordante',
  more: 'Afficher plus',
  drawBox: 'Rechercher une zone',
  drawHint: 'Faites glisser pour tracer un cadre sur l’image. Entrée recherche la zone visible, Échap annule.',
  closeCompare: 'Fermer la comparaison',
  queryImage: 'Votre image',
};

const TABLES: Record<string, Strings> = { en, fr };

export const LANGUAGES = Object.keys(TABLES);

/** The strings for a language tag ("fr", "fr-CA", "en"…), English when there is no table for it. */
export function t(lang: string | undefined): Strings {
  const primary = (lang ?? '').toLowerCase().split('-')[0] ?? '';
  return TABLES[primary] ?? en;
}

/** The page's language when an element has none of its own. */
export function pageLanguage(el: Element): string {
  return el.closest('[lang]')?.getAttribute('lang') || document.documentElement.lang || 'en';
}
