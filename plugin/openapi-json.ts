/**
 * Pieces of the OpenAPI document made from zod schemas, shared by plugin/openapi.ts and the
 * routes that describe themselves (routes/reprints.ts).
 */
import { z } from 'zod';
import type { ApiConfig } from '../config/index.ts';
import { ACCEPTED_TYPES } from './image-bytes.ts';

export type JsonSchema = Record<string, unknown>;

/** A response body: what the schema produces. */
export const outputSchema = (schema: z.ZodType): JsonSchema => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'output', target: 'draft-2020-12' }) as JsonSchema;
  return rest;
};

/** A request body or parameter: what the schema accepts (defaults make fields optional). */
export const inputSchema = (schema: z.ZodType): JsonSchema => {
  const { $schema: _, ...rest } = z.toJSONSchema(schema, { io: 'input', target: 'draft-2020-12', unrepresentable: 'any' }) as JsonSchema;
  return rest;
};

/** An object schema's properties as OpenAPI parameters (repeatable ones explode, the default form style). */
export function parameters(schema: z.ZodType, where: 'query' | 'path'): JsonSchema[] {
  const json = inputSchema(schema) as { properties?: Record<string, JsonSchema>; required?: string[] };
  return Object.entries(json.properties ?? {}).map(([name, s]) => {
    const { description, ...rest } = s;
    return { name, in: where, required: where === 'path' || (json.required ?? []).includes(name), ...(description ? { description } : {}), schema: rest };
  });
}

/** The request body of routes that take a query image: an upload in the multipart field "image", or a JSON body. */
export function imageRequestBody(api: ApiConfig, json: z.ZodType): JsonSchema {
  return {
    required: true,
    content: {
      'multipart/form-data': {
        schema: {
          type: 'object',
          properties: { image: { type: 'string', contentMediaType: 'application/octet-stream', description: `A ${ACCEPTED_TYPES.join(', ')} file of at most ${api.maxUploadBytes} bytes and ${api.maxImagePixels} pixels.` } },
          required: ['image'],
          additionalProperties: false,
        },
        encoding: { image: { contentType: 'image/jpeg, image/png, image/webp, image/tiff' } },
      },
      'application/json': { schema: inputSchema(json) },
    },
  };
}
