/**
 * The Mirador 4 plugin: a side-bar tab, the companion window it opens (panel.ts), and the layer
 * over the viewer (region-layer.ts), sharing the plugin's slice of the store (state.ts). Settings
 * live in Mirador's config under `reprise`, so a portal can also set them in its own config.
 */
import {
  getConfig,
  getCurrentCanvas,
  getWindow,
  updateWindow,
  type Dispatch,
  type MiradorPlugin,
  type MiradorState,
} from 'mirador';
import { visibleRegion } from './visible-region.ts';
import type { HitTarget } from './hit-target.ts';
import { compareReprint, openHit, type OtherManifestMode } from './open-hit.ts';
import { ReprisePanel } from './panel.ts';
import { RegionLayer } from './region-layer.ts';
import { COMPANION_WINDOW_KEY, RepriseSideBarIcon } from './sidebar-button.ts';
import { clearQueryOutline, regionDrawn, repriseReducer, setDrawing, STATE_KEY, windowSearchState, type CanvasRegion } from './state.ts';
import { checkSettings, type RepriseMiradorSettings } from './settings.ts';
import { translations, widgetLanguage } from './translations.ts';

const settingsOf = (state: MiradorState): Partial<RepriseMiradorSettings> => (getConfig(state)[STATE_KEY] ?? {}) as Partial<RepriseMiradorSettings>;

/**
 * The plugin, for Mirador.viewer(config, [...repriseMiradorPlugin(settings)]). Without settings,
 * they are read from the viewer config's `reprise` key.
 */
export function repriseMiradorPlugin(settings?: RepriseMiradorSettings): MiradorPlugin[] {
  const checked = settings === undefined ? undefined : checkSettings(settings);
  return [
    {
      name: 'RepriseSideBarButton',
      target: 'WindowSideBarButtons',
      mode: 'add',
      component: RepriseSideBarIcon,
      config: { translations, ...(checked ? { [STATE_KEY]: checked } : {}) },
    },
    {
      name: 'ReprisePanel',
      companionWindowKey: COMPANION_WINDOW_KEY,
      component: ReprisePanel,
      reducers: { [STATE_KEY]: repriseReducer },
      mapStateToProps: (state: MiradorState, { windowId }: { windowId: string }) => {
        const s = settingsOf(state);
        const search = windowSearchState(state, windowId);
        return {
          api: s.api,
          lang: s.lang ?? widgetLanguage(getConfig(state).language),
          limit: s.limit,
          minScore: s.minScore,
          otherManifest: s.otherManifest,
          manifestId: getWindow(state, { windowId })?.manifestId as string | undefined,
          canvasId: getCurrentCanvas(state, { windowId })?.id,
          drawing: search.drawing,
          drawn: search.drawn,
        };
      },
      mapDispatchToProps: (dispatch: Dispatch, { windowId }: { windowId: string }) => ({
        openHitIn: (target: HitTarget, mode?: OtherManifestMode) => dispatch(openHit(windowId, target, mode)),
        compareReprint: (target: HitTarget, queryRegion: CanvasRegion | undefined) => dispatch(compareReprint(windowId, target, queryRegion)),
        foldPanel: () => dispatch(updateWindow(windowId, { companionAreaOpen: false })),
        setDrawing: (drawing: boolean) => dispatch(setDrawing(windowId, drawing)),
        clearQueryOutline: () => dispatch(clearQueryOutline(windowId)),
        visibleRegion: () => dispatch(visibleRegion(windowId)) as CanvasRegion | undefined,
      }),
    },
    {
      name: 'RepriseRegionLayer',
      target: 'OpenSeadragonViewer',
      mode: 'add',
      component: RegionLayer,
      mapStateToProps: (state: MiradorState, { windowId }: { windowId: string }) => {
        const search = windowSearchState(state, windowId);
        return { drawing: search.drawing, highlight: search.highlight, queryOutline: search.queryOutline };
      },
      mapDispatchToProps: (dispatch: Dispatch, { windowId }: { windowId: string }) => ({
        regionDrawn: (region: CanvasRegion) => dispatch(regionDrawn(windowId, region)),
        setDrawing: (drawing: boolean) => dispatch(setDrawing(windowId, drawing)),
      }),
    },
  ];
}
