/**
 * The parts of Mirador 4 (which ships no types) this plugin uses. Loose where Mirador's own
 * objects are passed through untouched.
 */
declare module 'mirador' {
  import type { ComponentType, ReactNode } from 'react';

  export type MiradorState = Record<string, unknown>;
  export type AnyAction = { type: string; [key: string]: unknown };
  export type Dispatch = (action: AnyAction | Thunk) => unknown;
  export type Thunk = (dispatch: Dispatch, getState: () => MiradorState) => unknown;

  export interface MiradorStore {
    getState(): MiradorState;
    dispatch: Dispatch;
    subscribe(listener: () => void): () => void;
  }

  export interface MiradorPlugin {
    name?: string;
    target?: string;
    mode?: 'add' | 'wrap';
    component: ComponentType<any>;
    companionWindowKey?: string;
    mapStateToProps?: (state: MiradorState, props: any) => Record<string, unknown>;
    mapDispatchToProps?: ((dispatch: Dispatch, props: any) => Record<string, unknown>) | Record<string, unknown>;
    reducers?: Record<string, (state: any, action: AnyAction) => any>;
    config?: Record<string, unknown>;
  }

  export interface MiradorViewerInstance {
    store: MiradorStore;
    unmount(): void;
  }

  /** A manifesto canvas as Mirador hands it out. */
  export interface ManifestoCanvas {
    id: string;
    getWidth(): number;
    getHeight(): number;
  }
  export interface MiradorCanvas {
    id: string;
    getWidth(): number;
    getHeight(): number;
  }
  export interface CanvasWorld {
    canvases: MiradorCanvas[];
    canvasToWorldCoordinates(canvasId: string): [number, number, number, number];
  }

  /** An OpenSeadragon viewer, reduced to what is read here. */
  export interface OsdRect {
    x: number;
    y: number;
    width: number;
    height: number;
  }
  export interface OsdViewer {
    element: HTMLElement;
    world: {
      getItemCount(): number;
      addHandler(event: string, handler: (...args: any[]) => void): void;
      removeHandler(event: string, handler: (...args: any[]) => void): void;
    };
    viewport: {
      getBounds(current?: boolean): OsdRect;
      getRotation(): number;
      getFlip(): boolean;
      fitBounds(rect: OsdRect, immediately?: boolean): void;
    };
    addHandler(event: string, handler: (...args: any[]) => void): void;
    removeHandler(event: string, handler: (...args: any[]) => void): void;
  }

  export const OSDReferences: { get(windowId: string): { current?: OsdViewer | null } | undefined };

  export const ConnectedCompanionWindow: ComponentType<{
    id: string;
    windowId: string;
    title?: ReactNode;
    ariaLabel?: string;
    titleControls?: ReactNode;
    children?: ReactNode;
  }>;

  export function setCanvas(windowId: string, canvasId: string): Thunk;
  export function addWindow(options: Record<string, unknown>): Thunk;
  export function focusWindow(windowId: string, pan?: boolean): AnyAction;
  export function updateWindow(windowId: string, payload: Record<string, unknown>): AnyAction;
  export function getViewer(state: MiradorState, props: { windowId: string }): { bounds?: OsdRect } | undefined;
  export function updateViewport(windowId: string, payload: Record<string, unknown>): AnyAction;
  export function addOrUpdateCompanionWindow(windowId: string, payload: Record<string, unknown>): Thunk;

  export function getConfig(state: MiradorState): Record<string, any>;
  export function getWindow(state: MiradorState, props: { windowId: string }): Record<string, any> | undefined;
  export function getWindowIds(state: MiradorState): string[];
  export function getCurrentCanvas(state: MiradorState, props: { windowId: string }): ManifestoCanvas | undefined;
  export function getCurrentCanvasWorld(state: MiradorState, props: { windowId: string }): CanvasWorld;
  export function getVisibleCanvasIds(state: MiradorState, props: { windowId: string }): string[];
  export function getManifestoInstance(state: MiradorState, props: { windowId?: string; manifestId?: string }): { id: string } | undefined;
  export function getCanvas(state: MiradorState, props: { windowId: string; canvasId: string }): ManifestoCanvas | undefined;

  export function useTranslation(): { t: (key: string, options?: Record<string, unknown>) => string; i18n: { language: string } };

  export function viewer(config: Record<string, unknown>, plugins?: MiradorPlugin[]): MiradorViewerInstance;

  const Mirador: { viewer: typeof viewer };
  export default Mirador;
}
