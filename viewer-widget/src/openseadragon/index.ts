export { attachReprise, imageToCanvas, canvasToImage, type AttachOptions, type RepriseViewer } from './attach.ts';
export { RegionSelector, type RegionSelectorOptions, type OpenSeadragonNamespace } from './region-selector.ts';
export { viewerCanvasOf, type ViewerCanvas } from './tile-source.ts';
