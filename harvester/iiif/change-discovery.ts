/**
 * IIIF Change Discovery API 1.0 (https://iiif.io/api/discovery/1.0/): an
 * Activity Streams OrderedCollection whose pages list Create/Update/Delete/…
 * activities, oldest first. A harvester reads it backwards from the last page
 * and stops at the time of its previous run.
 */
import type { ChangeActivity, ParsedChangePage } from './types.ts';
import { describeValue, IiifParseError } from './errors.ts';
import { asList, bareType, isRecord, typeOf, type JsonObject } from './util.ts';

const MAX_ACTIVITIES_PER_PAGE = 100_000;
const ACTIVITY_TYPES = new Set<ChangeActivity['type']>(['Create', 'Update', 'Delete', 'Move', 'Add', 'Remove', 'Refresh']);

export interface ParsedChangeCollection {
  id?: string;
  first?: string;
  last?: string;
  totalItems?: number;
}

export function parseChangeCollection(json: unknown, opts: { url?: string } = {}): ParsedChangeCollection {
  const node = expectObject(json, opts.url);
  const type = typeOf(node);
  if (type !== undefined && type !== 'OrderedCollection') {
    throw new IiifParseError(`not a Change Discovery OrderedCollection: type is ${describeValue(type)}`, opts.url);
  }
  const out: ParsedChangeCollection = {};
  const id = linkId(node['id'] ?? node['@id']);
  if (id) out.id = id;
  const first = linkId(node['first']);
  const last = linkId(node['last']);
  if (first) out.first = first;
  if (last) out.last = last;
  if (!first && !last) throw new IiifParseError('not a usable Change Discovery OrderedCollection: it has neither first nor last page', opts.url);
  const total = node['totalItems'];
  if (typeof total === 'number' && Number.isInteger(total) && total >= 0) out.totalItems = total;
  return out;
}

/**
 * Reads one OrderedCollectionPage. Given the OrderedCollection itself, reads it
 * as a page too (small streams embed their activities there), with `prev`
 * pointing at its last page: the next one to read when walking backwards.
 */
export function parseChangePage(json: unknown, opts: { url?: string } = {}): ParsedChangePage {
  const node = expectObject(json, opts.url);
  const type = typeOf(node);
  const isCollection = type === 'OrderedCollection';
  if (type !== 'OrderedCollectionPage' && !isCollection) {
    throw new IiifParseError(`not a Change Discovery page: type is ${describeValue(type)}`, opts.url);
  }
  const items = node['orderedItems'];
  if (!isCollection && !Array.isArray(items)) {
    throw new IiifParseError(`not a usable Change Discovery page: orderedItems is ${describeValue(items)}, not a list`, opts.url);
  }
  const activities = asList(items)
    .slice(0, MAX_ACTIVITIES_PER_PAGE)
    .map(readActivity)
    .filter((a): a is ChangeActivity => a !== undefined);
  const page: ParsedChangePage = { activities };
  const links = {
    prev: linkId(node['prev']) ?? (isCollection ? linkId(node['last']) : undefined),
    next: linkId(node['next']),
    first: linkId(node['first']),
    last: linkId(node['last']),
    partOf: linkId(node['partOf']),
  };
  for (const [key, value] of Object.entries(links)) {
    if (value) Object.assign(page, { [key]: value });
  }
  return page;
}

function expectObject(json: unknown, url?: string): JsonObject {
  if (!isRecord(json)) throw new IiifParseError(`not a Change Discovery document: expected a JSON object, found ${describeValue(json)}`, url);
  return json;
}

/** A link is `{id, type}` per the spec; bare strings and `@id` are accepted too. */
function linkId(value: unknown): string | undefined {
  for (const item of asList(value)) {
    const raw = typeof item === 'string' ? item : isRecord(item) ? item['id'] ?? item['@id'] : undefined;
    if (typeof raw === 'string' && raw.trim()) return raw.trim();
  }
  return undefined;
}

/** Activities that cannot be acted on (unknown type, no object id) are dropped. */
function readActivity(node: unknown): ChangeActivity | undefined {
  if (!isRecord(node)) return undefined;
  const type = typeOf(node) as ChangeActivity['type'] | undefined;
  if (type === undefined || !ACTIVITY_TYPES.has(type)) return undefined;
  const time = [node['endTime'], node['startTime']].find((t): t is string => typeof t === 'string' && t.trim() !== '');
  if (type === 'Refresh') {
    // Refresh has no object, and carries startTime so that it sorts before the updates it announces.
    const refresh: ChangeActivity = { type, objectId: '', objectType: '' };
    const start = typeof node['startTime'] === 'string' ? node['startTime'] : time;
    if (start) refresh.endTime = start.trim();
    return refresh;
  }
  const object = node['object'];
  const objectId = linkId(object);
  if (!objectId) return undefined;
  const activity: ChangeActivity = {
    type,
    objectId,
    objectType: isRecord(object) ? bareType(typeOf(object)) ?? '' : '',
  };
  if (type === 'Move') {
    const target = linkId(node['target']);
    if (target) activity.targetId = target;
  }
  if (time) activity.endTime = time.trim();
  return activity;
}

export interface ChangedObject {
  id: string;
  type: string;
  endTime?: string;
}

export interface ChangeSelection {
  /** Objects to fetch and (re)harvest, most recently changed first. */
  harvest: ChangedObject[];
  /** Objects to remove from the index, most recently changed first. */
  deleted: ChangedObject[];
  /**
   * True when older activities cannot change the result: one at or before
   * `since` was reached, or a Refresh on a first run. A caller walking pages
   * backwards can stop fetching `prev` pages.
   */
  complete: boolean;
}

export interface SelectOptions {
  /**
   * Object types the harvester acts on (default Manifest and Collection).
   * Objects without a type are kept: fetching them will tell what they are.
   */
  types?: string[];
}

/**
 * Applies the spec's page algorithm (§3.5.2) to activities given oldest first
 * (as pages list them; concatenate older pages before newer ones):
 * - walk newest → oldest; the first (latest) activity seen for an object wins;
 * - Delete/Remove → deleted; Create/Update/Add → harvest; Move → the old id is
 *   deleted and the target harvested;
 * - activities at or before `since` are skipped (they were handled by the
 *   previous run) and mark the selection complete. Skipping rather than stopping
 *   keeps us right when a publisher orders a page slightly wrongly;
 * - Refresh means "every live object is re-announced after this point": on a
 *   first run (no `since`) nothing older matters, so the walk stops; on a later
 *   run, older activities are read for deletions only.
 * Add/Remove are taken at face value; we do not check that their target/origin
 * is this stream, because the harvester reads one stream at a time.
 */
export function selectChangedObjects(activities: ChangeActivity[], since?: Date, opts: SelectOptions = {}): ChangeSelection {
  const types = new Set((opts.types ?? ['Manifest', 'Collection']).map((t) => bareType(t)));
  const sinceMs = since?.getTime();
  const selection: ChangeSelection = { harvest: [], deleted: [], complete: false };
  const processed = new Set<string>();
  let onlyDelete = false;

  for (let i = activities.length - 1; i >= 0; i--) {
    const activity = activities[i]!;
    const time = activity.endTime !== undefined ? Date.parse(activity.endTime) : NaN;
    if (sinceMs !== undefined && !Number.isNaN(time) && time <= sinceMs) {
      selection.complete = true;
      continue;
    }
    if (activity.type === 'Refresh') {
      if (sinceMs === undefined) {
        selection.complete = true;
        break;
      }
      onlyDelete = true;
      continue;
    }
    if (processed.has(activity.objectId)) continue;
    if (activity.objectType !== '' && !types.has(activity.objectType)) continue;
    const object: ChangedObject = { id: activity.objectId, type: activity.objectType };
    if (activity.endTime !== undefined) object.endTime = activity.endTime;

    if (activity.type === 'Delete' || activity.type === 'Remove') {
      selection.deleted.push(object);
    } else if (onlyDelete) {
      continue;
    } else if (activity.type === 'Move') {
      selection.deleted.push(object);
      if (activity.targetId && !processed.has(activity.targetId)) {
        selection.harvest.push({ ...object, id: activity.targetId });
        processed.add(activity.targetId);
      }
    } else {
      selection.harvest.push(object);
    }
    processed.add(activity.objectId);
  }
  return selection;
}

/** Whether a page (read newest first) already reaches back far enough that older pages need not be fetched. */
export function pageEndsWalk(page: ParsedChangePage, since?: Date): boolean {
  return selectChangedObjects(page.activities, since).complete || page.prev === undefined;
}
