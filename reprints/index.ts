export { ReprintService, UnknownItemError, DEFAULT_SHORTLIST, DEFAULT_SCAN_SHORTLIST, type CoordinateSpace } from './reprint-service.ts';
export { groupPairs } from './grouping.ts';
export type * from './types.ts';
