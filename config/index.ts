export { loadConfig, ConfigError, type LoadConfigOptions } from './load.ts';
export { configSchema, type RepriseConfig, type HarvestConfig, type HttpConfig, type ModelsConfig, type StoreConfig, type ApiConfig, type PublishConfig } from './schema.ts';
export type { LabelsConfig } from './schema.ts';
export { type FacetsConfig, facetsConfigSchema } from './schema.ts';
