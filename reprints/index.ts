export { ReprintService, UnknownItemError, DEFAULT_SHORTLIST, DEFAULT_SCAN_SHORTLIST } from './reprint-service.ts';
export { groupPairs } from './grouping.ts';
export type * from './types.ts';
export { scanInThread, SCAN_HEAP_MB, SCAN_STOP_GRACE_MS, type ScanInThreadOptions, type ScanResult } from './scan-thread.ts';
