import { readFileSync, existsSync } from 'node:fs';
import path from 'node:path';
import { z } from 'zod';
import { configSchema, type RepriseConfig } from './schema.ts';
import { RepriseError } from '../common/index.ts';

/**
 * Variables that start with REPRISE_ but are not configuration keys: the config file, the
 * install-time switch of the reprint binding's build, test set-up (fixtures, a Chromium binary),
 * and the role `reprise serve --workers` gives each worker process (cli/commands/serve-workers.ts).
 */
const NON_CONFIG_VARIABLES = new Set(['REPRISE_CONFIG', 'REPRISE_LOCAL_FEATURES', 'REPRISE_FIXTURES', 'REPRISE_CHROMIUM', 'REPRISE_SERVE_ROLE']);
const DEFAULT_CONFIG_FILE = 'reprise.config.json';

export class ConfigError extends RepriseError {
  override name = 'ConfigError';
  constructor(readonly problems: string[]) {
    super(`invalid configuration:\n  - ${problems.join('\n  - ')}`);
  }
}

export interface LoadConfigOptions {
  /** Config file path; else $REPRISE_CONFIG; else ./reprise.config.json when it exists. */
  file?: string;
  env?: NodeJS.ProcessEnv;
  /** Applied last, e.g. from command-line flags. */
  overrides?: Record<string, unknown>;
}

/**
 * Reads the configuration from a JSON file and REPRISE_* variables and validates it,
 * so that a typo fails at start with the key named rather than later mid-harvest.
 * Nested keys use a double underscore: REPRISE_HARVEST__HTTP__CONCURRENCY=4.
 */
export function loadConfig(opts: LoadConfigOptions = {}): RepriseConfig {
  const env = opts.env ?? process.env;
  const problems: string[] = [];
  const sources = new Map<string, string>();

  let raw: Record<string, unknown> = {};
  const file = opts.file ?? env.REPRISE_CONFIG ?? (existsSync(DEFAULT_CONFIG_FILE) ? DEFAULT_CONFIG_FILE : undefined);
  if (file) raw = readConfigFile(file);

  for (const [name, value] of Object.entries(env)) {
    if (!name.startsWith('REPRISE_') || NON_CONFIG_VARIABLES.has(name) || value === undefined) continue;
    const keyPath = name.slice('REPRISE_'.length).split('__').map(snakeToCamel);
    const leaf = leafSchema(configSchema, keyPath);
    if (!leaf) {
      problems.push(`${name}: no configuration key ${keyPath.join('.')}; remove the variable or correct its name; known keys: ${allKeys(configSchema).join(', ')}`);
      continue;
    }
    setPath(raw, keyPath, coerce(value, leaf));
    sources.set(keyPath.join('.'), name);
  }
  for (const [key, value] of Object.entries(opts.overrides ?? {})) {
    if (value !== undefined) setPath(raw, key.split('.'), value);
  }

  const result = configSchema.safeParse(raw);
  if (!result.success) {
    for (const issue of result.error.issues) {
      const key = issue.path.join('.') || '(root)';
      const from = sources.get(key) ? ` (from ${sources.get(key)})` : file ? ` (in ${file})` : '';
      const unknown = issue.code === 'unrecognized_keys' ? `; allowed here: ${allowedAt(issue.path)}` : '';
      problems.push(`${key}${from}: ${issue.message}${unknown}`);
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return result.data!;
}

function readConfigFile(file: string): Record<string, unknown> {
  const full = path.resolve(file);
  let text: string;
  try {
    text = readFileSync(full, 'utf8');
  } catch (err) {
    throw new ConfigError([`cannot read config file ${full}: ${(err as Error).message}`]);
  }
  try {
    const parsed = JSON.parse(text) as unknown;
    if (!parsed || typeof parsed !== 'object' || Array.isArray(parsed)) throw new Error('the top level must be an object');
    return parsed as Record<string, unknown>;
  } catch (err) {
    throw new ConfigError([`config file ${full} is not valid JSON: ${(err as Error).message}`]);
  }
}

function snakeToCamel(s: string): string {
  return s.toLowerCase().replace(/_([a-z0-9])/g, (_, c: string) => c.toUpperCase());
}

type AnySchema = z.ZodType & { _zod: { def: { type: string; innerType?: AnySchema; shape?: Record<string, AnySchema>; element?: AnySchema } } };

function unwrap(schema: AnySchema): AnySchema {
  let s = schema;
  while (s._zod.def.innerType) s = s._zod.def.innerType;
  return s;
}

function shapeOf(schema: AnySchema): Record<string, AnySchema> | undefined {
  const s = unwrap(schema);
  return s._zod.def.type === 'object' ? (s as unknown as { shape: Record<string, AnySchema> }).shape : undefined;
}

/**
 * The schema of one key of an object schema. Own keys only: a variable such as REPRISE_TO_STRING
 * must not reach Object.prototype.toString (or constructor, __proto__) through the shape object.
 */
function fieldOf(schema: AnySchema, key: string): AnySchema | undefined {
  const shape = shapeOf(schema);
  return shape && Object.hasOwn(shape, key) ? shape[key] : undefined;
}

function leafSchema(schema: AnySchema, keyPath: string[]): AnySchema | undefined {
  let s: AnySchema | undefined = schema;
  for (const key of keyPath) {
    s = s && fieldOf(s, key);
  }
  return s && !shapeOf(s) ? unwrap(s) : undefined;
}

function allKeys(schema: AnySchema, prefix = ''): string[] {
  const shape = shapeOf(schema);
  if (!shape) return [prefix];
  return Object.entries(shape).flatMap(([k, v]) => allKeys(v, prefix ? `${prefix}.${k}` : k));
}

function allowedAt(keyPath: PropertyKey[]): string {
  let s: AnySchema | undefined = configSchema as unknown as AnySchema;
  for (const key of keyPath) s = s && fieldOf(s, String(key));
  return Object.keys((s && shapeOf(s)) ?? {}).join(', ');
}

/** Environment values are strings: give the schema the type it expects, and let it judge the value. */
function coerce(value: string, leaf: AnySchema): unknown {
  switch (leaf._zod.def.type) {
    case 'number': {
      const n = Number(value);
      return value.trim() !== '' && Number.isFinite(n) ? n : value;
    }
    case 'boolean':
      return value === 'true' || value === '1' ? true : value === 'false' || value === '0' ? false : value;
    case 'array':
      return value.trim().startsWith('[') ? safeJson(value) : value.split(',').map((s) => s.trim()).filter(Boolean);
    case 'union': {
      // api.trustProxy: hops, true/false, a JSON list, or a string (e.g. "loopback").
      const t = value.trim();
      if (/^\d+$/.test(t)) return Number(t);
      if (t === 'true' || t === 'false') return t === 'true';
      return t.startsWith('[') ? safeJson(t) : value;
    }
    default:
      return value;
  }
}

function safeJson(value: string): unknown {
  try {
    return JSON.parse(value);
  } catch {
    return value;
  }
}

function setPath(target: Record<string, unknown>, keyPath: string[], value: unknown): void {
  let node = target;
  for (const key of keyPath.slice(0, -1)) {
    const next = node[key];
    node = (next && typeof next === 'object' ? next : (node[key] = {})) as Record<string, unknown>;
  }
  node[keyPath[keyPath.length - 1]!] = value;
}
