/** The plugin's labels, merged into Mirador's own translations (Mirador picks by its `language`). */
export const translations = {
  en: {
    openCompanionWindow_reprise: 'Visual search',
    repriseTitle: 'Visual search',
    repriseSearchView: 'Search this view',
    repriseSearchViewHint: 'Find images like the part of this canvas shown in the viewer',
    repriseDrawRegion: 'Draw a region',
    repriseDrawRegionHint: 'Draw a box over the image to find images like it',
    repriseCancelDrawing: 'Cancel drawing',
    repriseDrawingOverlay: 'Drag to draw the region to search with; Enter searches the part in view; Escape cancels',
    repriseNoRegion: 'Nothing of an image canvas is in view: show a canvas in the single or book view first.',
    repriseWidgetMissing: 'The <reprise-search> element is not defined on this page: load reprise-widget.js (see docs/widget-embedding.md).',
    repriseHitRegion: 'Region that matched',
    repriseQueryRegion: 'Region searched with',
    repriseTabSearch: 'Search',
    repriseTabSimilar: 'Similar',
    repriseTabReprints: 'Reprints',
  },
  fr: {
    openCompanionWindow_reprise: 'Recherche visuelle',
    repriseTitle: 'Recherche visuelle',
    repriseSearchView: 'Chercher cette vue',
    repriseSearchViewHint: 'Trouver des images semblables à la partie de cette vue affichée',
    repriseDrawRegion: 'Tracer une zone',
    repriseDrawRegionHint: "Tracer un rectangle sur l'image pour trouver des images semblables",
    repriseCancelDrawing: 'Annuler le tracé',
    repriseDrawingOverlay: 'Faites glisser pour tracer la zone à chercher ; Entrée cherche la partie affichée ; Échap annule',
    repriseNoRegion: "Aucune partie d'une image n'est affichée : montrez une vue en mode simple ou livre d'abord.",
    repriseWidgetMissing: "L'élément <reprise-search> n'est pas défini sur cette page : chargez reprise-widget.js (voir docs/widget-embedding.md).",
    repriseHitRegion: 'Zone correspondante',
    repriseQueryRegion: 'Zone cherchée',
    repriseTabSearch: 'Rechercher',
    repriseTabSimilar: 'Similaires',
    repriseTabReprints: 'Réimpressions',
  },
} as const;

/** The widget speaks English and French: Mirador's language mapped onto those two. */
export function widgetLanguage(language: unknown): 'en' | 'fr' {
  return typeof language === 'string' && language.toLowerCase().startsWith('fr') ? 'fr' : 'en';
}
