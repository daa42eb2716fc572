/** The HTTP client every layer fetches through (the harvester's documents and images, the model downloads). */
export * from './types.ts';
export * from './errors.ts';
export { createHttpClient, type CreateHttpClientOptions } from './client.ts';
export { createSsrfGuard, classifyAddress, systemResolver, type SsrfGuard, type Resolver, type ResolvedAddress, type AddressVerdict } from './ssrf-guard.ts';
export { HostLimiter, QueueFullError, LimiterClosedError, DEFAULT_MAX_QUEUED, type HostLimiterOptions, type Release } from './host-limiter.ts';
export { decideRetry, type RetryDecision } from './retry-decision.ts';
