/**
 * Entry point for any document a user or a collection points the harvester
 * at: decides whether it is a Manifest, a Collection or an Image API info.json
 * and hands it to the right parser. Everything that is none of these throws
 * IiifParseError with a message saying what was found instead.
 */
import type { ParsedDocument } from './types.ts';
import { parseCollection } from './collection.ts';
import { describeValue, IiifParseError } from './errors.ts';
import { parseImageService } from './image-service.ts';
import { parseManifest } from './manifest.ts';
import type { RegionOptions } from './annotations.ts';
import { bareType, contextsOf, isRecord, typeOf, type JsonObject } from './util.ts';

export interface ParseDocumentOptions {
  url?: string;
  maxCanvases?: number;
  maxEntries?: number;
  /** Annotated regions of canvases: how they are bounded, or false for none. */
  regions?: RegionOptions | false;
}

/** Types that are IIIF but not somewhere a harvest can start. */
const NOT_A_STARTING_POINT = new Set([
  'Canvas', 'Sequence', 'Range', 'Annotation', 'AnnotationPage', 'AnnotationList', 'AnnotationCollection', 'Layer',
  'OrderedCollection', 'OrderedCollectionPage',
]);

export function parseIiifDocument(json: unknown, opts: ParseDocumentOptions = {}): ParsedDocument {
  const fail = (message: string): never => {
    throw new IiifParseError(message, opts.url);
  };
  if (!isRecord(json)) return fail(`not a IIIF document: expected a JSON object, found ${describeValue(json)}`);
  const type = bareType(typeOf(json));
  if (type === 'Manifest') return parseManifest(json, opts);
  if (type === 'Collection') return parseCollection(json, opts);
  if (isImageInfo(json)) {
    const service = parseImageService(json, opts.url);
    if (!service) return fail('not a usable Image API info.json: it has no @id/id');
    return { kind: 'image-info', service };
  }
  if (type === undefined) return fail(missingTypeMessage(json));
  if (NOT_A_STARTING_POINT.has(type)) {
    return fail(`a ${type} is not something to harvest from: point the harvester at a Manifest or Collection`);
  }
  return fail(`not a IIIF Manifest or Collection: unknown type ${describeValue(typeOf(json))}`);
}

/** Parses the bytes of a response body, so that "not JSON at all" is an IiifParseError too. */
export function parseIiifJson(text: string, opts: ParseDocumentOptions = {}): ParsedDocument {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (error) {
    throw new IiifParseError(`not JSON: ${(error as Error).message}`, opts.url, { cause: error });
  }
  return parseIiifDocument(json, opts);
}

function isImageInfo(json: JsonObject): boolean {
  if (/^ImageService[123]$/.test(typeOf(json) ?? '')) return true;
  if (json['protocol'] === 'http://iiif.io/api/image') return true;
  return contextsOf(json).some((c) => /iiif\.io\/api\/image\/[123]\/|library\.stanford\.edu\/iiif\/image-api\//.test(c));
}

function missingTypeMessage(json: JsonObject): string {
  const contexts = contextsOf(json).filter((c) => c !== '');
  if (contexts.some((c) => /iiif\.io\/api\/presentation\//.test(c))) return 'not a IIIF Presentation document: missing @type/type';
  if (contexts.length > 0) return `not a IIIF document: unknown @context ${describeValue(contexts[0])} and no @type/type`;
  return 'not a IIIF document: no @context and no @type/type';
}
