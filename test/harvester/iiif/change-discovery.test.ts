/**
 * IIIF Change Discovery 1.0. No fixture exists in the shared corpus, so the
 * streams here are small hand-written Activity Streams documents in the shapes
 * the specification gives.
 */
import assert from 'node:assert/strict';
import {
  pageEndsWalk, parseChangeCollection, parseChangePage, selectChangedObjects,
} from '../../../harvester/iiif/change-discovery.ts';
import { IiifParseError } from '../../../harvester/iiif/errors.ts';
import type { ChangeActivity } from '../../../harvester/iiif/types.ts';

const CONTEXT = 'http://iiif.io/api/discovery/1/context.json';
const M = (n: number) => `https://example.org/iiif/${n}/manifest`;

function activity(type: string, n: number, endTime: string, extra: Record<string, unknown> = {}): Record<string, unknown> {
  return { type, object: { id: M(n), type: 'Manifest' }, endTime, ...extra };
}

const PAGE = {
  '@context': CONTEXT,
  id: 'https://example.org/activity/page-1',
  type: 'OrderedCollectionPage',
  partOf: { id: 'https://example.org/activity/all-changes', type: 'OrderedCollection' },
  prev: { id: 'https://example.org/activity/page-0', type: 'OrderedCollectionPage' },
  next: { id: 'https://example.org/activity/page-2', type: 'OrderedCollectionPage' },
  orderedItems: [
    activity('Create', 1, '2024-01-01T00:00:00Z'),
    activity('Create', 2, '2024-01-02T00:00:00Z'),
    activity('Update', 1, '2024-01-03T00:00:00Z'),
    activity('Create', 3, '2024-01-04T00:00:00Z'),
    activity('Delete', 2, '2024-01-05T00:00:00Z'),
    activity('Update', 3, '2024-01-06T00:00:00Z'),
    activity('Move', 4, '2024-01-07T00:00:00Z', { target: { id: M(40), type: 'Manifest' } }),
    { type: 'Update', object: { id: 'https://example.org/iiif/1/canvas/1', type: 'Canvas' }, endTime: '2024-01-08T00:00:00Z' },
    { type: 'Like', object: { id: M(9), type: 'Manifest' }, endTime: '2024-01-09T00:00:00Z' },
    { type: 'Update', endTime: '2024-01-09T00:00:00Z' },
    'not an activity',
  ],
};

const ids = (list: Array<{ id: string }>) => list.map((o) => o.id);

describe('IIIF Change Discovery', function () {
  describe('parseChangeCollection', function () {
    it('reads first, last and totalItems', function () {
      assert.deepEqual(parseChangeCollection({
        '@context': CONTEXT,
        id: 'https://example.org/activity/all-changes',
        type: 'OrderedCollection',
        totalItems: 21456,
        first: { id: 'https://example.org/activity/page-0', type: 'OrderedCollectionPage' },
        last: { id: 'https://example.org/activity/page-214', type: 'OrderedCollectionPage' },
      }), {
        id: 'https://example.org/activity/all-changes',
        first: 'https://example.org/activity/page-0',
        last: 'https://example.org/activity/page-214',
        totalItems: 21456,
      });
    });

    it('rejects documents that are not a usable OrderedCollection', function () {
      assert.throws(() => parseChangeCollection([]), IiifParseError);
      assert.throws(() => parseChangeCollection({ type: 'Manifest' }), /not a Change Discovery OrderedCollection/);
      assert.throws(() => parseChangeCollection({ type: 'OrderedCollection' }), /neither first nor last page/);
    });
  });

  describe('parseChangePage', function () {
    it('reads activities (dropping unusable ones) and the links', function () {
      const page = parseChangePage(PAGE);
      assert.equal(page.prev, 'https://example.org/activity/page-0');
      assert.equal(page.next, 'https://example.org/activity/page-2');
      assert.equal(page.partOf, 'https://example.org/activity/all-changes');
      assert.equal(page.activities.length, 8);
      assert.deepEqual(page.activities[6], {
        type: 'Move', objectId: M(4), objectType: 'Manifest', targetId: M(40), endTime: '2024-01-07T00:00:00Z',
      });
    });

    it('reads a Refresh by its startTime', function () {
      const page = parseChangePage({ type: 'OrderedCollectionPage', orderedItems: [{ type: 'Refresh', startTime: '2024-02-01T00:00:00Z' }] });
      assert.deepEqual(page.activities, [{ type: 'Refresh', objectId: '', objectType: '', endTime: '2024-02-01T00:00:00Z' }]);
    });

    it('reads an OrderedCollection with embedded items as a page whose prev is its last page', function () {
      const page = parseChangePage({ type: 'OrderedCollection', last: 'https://example.org/p9', orderedItems: [activity('Create', 1, '2024-01-01T00:00:00Z')] });
      assert.equal(page.prev, 'https://example.org/p9');
      assert.equal(page.activities.length, 1);
    });

    it('rejects other documents with IiifParseError', function () {
      assert.throws(() => parseChangePage('x'), IiifParseError);
      assert.throws(() => parseChangePage({ type: 'Manifest' }), /not a Change Discovery page/);
      assert.throws(() => parseChangePage({ type: 'OrderedCollectionPage' }), /orderedItems is nothing, not a list/);
    });
  });

  describe('selectChangedObjects', function () {
    const activities = parseChangePage(PAGE).activities;

    it('first run: the latest activity per object wins; deletes and moves are reported', function () {
      const selection = selectChangedObjects(activities);
      // Newest first: the move target, 3 (updated after its creation), then 1.
      assert.deepEqual(ids(selection.harvest), [M(40), M(3), M(1)]);
      assert.deepEqual(ids(selection.deleted), [M(4), M(2)]);
      assert.equal(selection.complete, false);
      assert.equal(selection.harvest.find((o) => o.id === M(1))?.endTime, '2024-01-03T00:00:00Z');
    });

    it('Canvas objects (not harvestable on their own) are ignored', function () {
      assert.ok(!ids(selectChangedObjects(activities).harvest).some((id) => id.includes('canvas')));
    });

    it('since: only activities after it count, and the walk is complete', function () {
      const selection = selectChangedObjects(activities, new Date('2024-01-04T12:00:00Z'));
      assert.deepEqual(ids(selection.harvest), [M(40), M(3)]);
      assert.deepEqual(ids(selection.deleted), [M(4), M(2)]);
      assert.equal(selection.complete, true);
    });

    it('since equal to an endTime excludes that activity (it was seen last time)', function () {
      const selection = selectChangedObjects(activities, new Date('2024-01-06T00:00:00Z'));
      assert.deepEqual(ids(selection.harvest), [M(40)]);
      assert.deepEqual(ids(selection.deleted), [M(4)]);
    });

    it('a re-created object after a delete is harvested again', function () {
      const list: ChangeActivity[] = [
        { type: 'Create', objectId: M(1), objectType: 'Manifest', endTime: '2024-01-01T00:00:00Z' },
        { type: 'Delete', objectId: M(1), objectType: 'Manifest', endTime: '2024-01-02T00:00:00Z' },
        { type: 'Create', objectId: M(1), objectType: 'Manifest', endTime: '2024-01-03T00:00:00Z' },
      ];
      assert.deepEqual(selectChangedObjects(list), { harvest: [{ id: M(1), type: 'Manifest', endTime: '2024-01-03T00:00:00Z' }], deleted: [], complete: false });
      assert.deepEqual(ids(selectChangedObjects(list.slice(0, 2)).deleted), [M(1)]);
    });

    it('Add and Remove (aggregators) count like Create and Delete', function () {
      const list: ChangeActivity[] = [
        { type: 'Add', objectId: M(1), objectType: 'Manifest' },
        { type: 'Remove', objectId: M(2), objectType: 'Manifest' },
      ];
      const selection = selectChangedObjects(list);
      assert.deepEqual([ids(selection.harvest), ids(selection.deleted)], [[M(1)], [M(2)]]);
    });

    describe('Refresh', function () {
      const stream: ChangeActivity[] = [
        { type: 'Create', objectId: M(1), objectType: 'Manifest', endTime: '2024-01-01T00:00:00Z' },
        { type: 'Delete', objectId: M(5), objectType: 'Manifest', endTime: '2024-01-02T00:00:00Z' },
        { type: 'Refresh', objectId: '', objectType: '', endTime: '2024-02-01T00:00:00Z' },
        { type: 'Update', objectId: M(2), objectType: 'Manifest', endTime: '2024-02-01T00:01:00Z' },
        { type: 'Update', objectId: M(3), objectType: 'Manifest', endTime: '2024-02-01T00:02:00Z' },
      ];

      it('first run: stop at the Refresh, everything live was re-announced after it', function () {
        const selection = selectChangedObjects(stream);
        assert.deepEqual(ids(selection.harvest), [M(3), M(2)]);
        assert.deepEqual(selection.deleted, []);
        assert.equal(selection.complete, true);
      });

      it('later run: read past the Refresh for deletions only', function () {
        const selection = selectChangedObjects(stream, new Date('2023-12-31T00:00:00Z'));
        assert.deepEqual(ids(selection.harvest), [M(3), M(2)]);
        assert.deepEqual(ids(selection.deleted), [M(5)]);
        assert.equal(selection.complete, false);
      });
    });

    it('pageEndsWalk: older pages are not needed once since is reached, or there is none', function () {
      const page = parseChangePage(PAGE);
      assert.equal(pageEndsWalk(page, new Date('2024-01-04T00:00:00Z')), true);
      assert.equal(pageEndsWalk(page, new Date('2023-01-01T00:00:00Z')), false);
      assert.equal(pageEndsWalk({ ...page, prev: undefined }), true);
    });
  });
});
