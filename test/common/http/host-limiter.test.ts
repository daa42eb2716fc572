import assert from 'node:assert/strict';
import { setTimeout as delay } from 'node:timers/promises';
import { HostLimiter, LimiterClosedError, QueueFullError, type Release } from '../../../common/http/host-limiter.ts';

/** Settles pending grants: they resolve through promise callbacks. */
const tick = () => delay(0);

function track(limiter: HostLimiter, host: string, signal?: AbortSignal) {
  const entry: { release?: Release; error?: unknown } = {};
  limiter.acquire(host, signal).then((r) => { entry.release = r; }, (e) => { entry.error = e; });
  return entry;
}

describe('HostLimiter', () => {
  const fast = { perHostRatePerSecond: Infinity };

  it('caps requests in flight per host', async () => {
    const limiter = new HostLimiter({ concurrency: 10, perHostConcurrency: 2, ...fast });
    const entries = [1, 2, 3].map(() => track(limiter, 'a'));
    await tick();
    assert.deepEqual(entries.map((e) => Boolean(e.release)), [true, true, false]);
    entries[0]!.release!();
    entries[0]!.release!(); // twice: no effect
    await tick();
    assert.ok(entries[2]!.release);
    assert.equal(limiter.stats.active, 2);
  });

  it('caps requests in flight overall, without one busy host blocking the others', async () => {
    const limiter = new HostLimiter({ concurrency: 2, perHostConcurrency: 1, ...fast });
    const a1 = track(limiter, 'a');
    const a2 = track(limiter, 'a');
    const b1 = track(limiter, 'b');
    const c1 = track(limiter, 'c');
    await tick();
    assert.ok(a1.release && b1.release && !a2.release && !c1.release);
    b1.release!();
    await tick();
    // 'a' still has one in flight, so the free slot goes to 'c' although a2 asked first.
    assert.ok(c1.release && !a2.release);
    a1.release!();
    await tick();
    assert.ok(a2.release);
  });

  it('spaces requests to one host by the rate, other hosts unaffected', async () => {
    const limiter = new HostLimiter({ concurrency: 10, perHostConcurrency: 10, perHostRatePerSecond: 20 });
    const started = performance.now();
    const times: number[] = [];
    await Promise.all([1, 2, 3, 4].map(async () => {
      const release = await limiter.acquire('a');
      times.push(performance.now() - started);
      release();
    }));
    const other = performance.now();
    (await limiter.acquire('b'))();
    assert.ok(performance.now() - other < 20);
    for (let i = 1; i < times.length; i++) assert.ok(times[i]! - times[i - 1]! >= 49, `gap ${times[i]! - times[i - 1]!}`);
    assert.ok(times[3]! >= 150);
  });

  it('defers a host on request', async () => {
    const limiter = new HostLimiter({ concurrency: 1, perHostConcurrency: 1, ...fast });
    limiter.defer('a', 80);
    const started = performance.now();
    (await limiter.acquire('a'))();
    assert.ok(performance.now() - started >= 79);
  });

  it('fails fast with a clear error when the queue is full', async () => {
    const limiter = new HostLimiter({ concurrency: 1, perHostConcurrency: 1, maxQueued: 2, ...fast });
    const first = track(limiter, 'a');
    track(limiter, 'a');
    track(limiter, 'a');
    await tick();
    assert.ok(first.release);
    await assert.rejects(limiter.acquire('a'), (err: unknown) =>
      err instanceof QueueFullError && /2 requests are already waiting/.test(err.message));
  });

  it('drops an aborted waiter and rejects with the reason', async () => {
    const limiter = new HostLimiter({ concurrency: 1, perHostConcurrency: 1, ...fast });
    const first = track(limiter, 'a');
    const controller = new AbortController();
    const second = track(limiter, 'a', controller.signal);
    const third = track(limiter, 'a');
    await tick();
    controller.abort(new Error('cancelled'));
    await tick();
    assert.match(String(second.error), /cancelled/);
    assert.equal(limiter.stats.queued, 1);
    first.release!();
    await tick();
    assert.ok(third.release && !second.release);
    await assert.rejects(limiter.acquire('a', AbortSignal.abort(new Error('already'))), /already/);
  });

  it('rejects waiters on close', async () => {
    const limiter = new HostLimiter({ concurrency: 1, perHostConcurrency: 1, perHostRatePerSecond: 1 });
    track(limiter, 'a');
    const waiting = track(limiter, 'a');
    await tick();
    limiter.close();
    await tick();
    assert.ok(waiting.error instanceof LimiterClosedError);
    await assert.rejects(limiter.acquire('b'), LimiterClosedError);
  });

  it('forgets idle hosts', async () => {
    const limiter = new HostLimiter({ concurrency: 4, perHostConcurrency: 1, ...fast });
    for (const h of ['a', 'b', 'c']) (await limiter.acquire(h))();
    assert.equal(limiter.stats.hosts, 0);
  });

  it('validates its options', () => {
    assert.throws(() => new HostLimiter({ concurrency: 0, perHostConcurrency: 1, perHostRatePerSecond: 1 }), /concurrency/);
    assert.throws(() => new HostLimiter({ concurrency: 1, perHostConcurrency: 1.5, perHostRatePerSecond: 1 }), /perHostConcurrency/);
    assert.throws(() => new HostLimiter({ concurrency: 1, perHostConcurrency: 1, perHostRatePerSecond: 0 }), /perHostRatePerSecond/);
  });
});
