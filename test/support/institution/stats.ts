import type { InstitutionStats } from './types.ts';

export class StatsCounter {
  private s: InstitutionStats = StatsCounter.empty();

  private static empty(): InstitutionStats {
    return { requests: 0, imageRequests: 0, notModified: 0, faultsInjected: 0, byPath: {}, byStatus: {} };
  }

  request(path: string): void {
    this.s.requests++;
    this.s.byPath[path] = (this.s.byPath[path] ?? 0) + 1;
  }

  response(method: string, status: number, contentType: string | undefined): void {
    this.s.byStatus[status] = (this.s.byStatus[status] ?? 0) + 1;
    if (status === 304) this.s.notModified++;
    if (status === 200 && method === 'GET' && contentType?.startsWith('image/')) this.s.imageRequests++;
  }

  fault(): void {
    this.s.faultsInjected++;
  }

  snapshot(): InstitutionStats {
    return { ...this.s, byPath: { ...this.s.byPath }, byStatus: { ...this.s.byStatus } };
  }

  reset(): void {
    this.s = StatsCounter.empty();
  }
}
