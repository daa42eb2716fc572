export { adminRouter, startHarvestBody, MAX_HARVEST_URLS } from './router.ts';
export { bearerToken, tokenMatches } from './auth.ts';
export { ADMIN_PROBLEM_TYPES, type AdminProblemKind } from './problems.ts';
