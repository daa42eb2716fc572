import type { Response } from 'express';
import { sendProblemBody } from '../middleware/problem-json.ts';

/**
 * Problems only the admin routes raise, named like those of plugin/problems.ts
 * (urn:reprise:problem:…). Candidates for its PROBLEM_TYPES catalogue.
 */
export const ADMIN_PROBLEM_TYPES = {
  unauthorized: { status: 401, title: 'Authentication required' },
  'method-not-allowed': { status: 405, title: 'Method not allowed' },
  'harvest-running': { status: 409, title: 'A harvest is already running' },
  'harvest-unavailable': { status: 503, title: 'Harvesting is not available' },
  'embeddings-model-mismatch': { status: 409, title: 'The embeddings come from another model' },
  'annotations-unreadable': { status: 422, title: 'The embedding annotations cannot be read' },
} as const satisfies Record<string, { status: number; title: string }>;

export type AdminProblemKind = keyof typeof ADMIN_PROBLEM_TYPES;

export function sendAdminProblem(res: Response, kind: AdminProblemKind, detail: string, instance?: string, fields: Record<string, unknown> = {}): void {
  const { status, title } = ADMIN_PROBLEM_TYPES[kind];
  sendProblemBody(res, { type: `urn:reprise:problem:${kind}`, title, status, detail, ...(instance ? { instance } : {}), ...fields });
}
