export { ReprintService, UnknownItemError, DEFAULT_SHORTLIST, type CoordinateSpace } from './reprint-service.ts';
export { groupPairs } from './grouping.ts';
export type * from './types.ts';
