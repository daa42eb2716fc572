/**
 * Politeness towards the servers being harvested: caps requests in flight overall and per host, and
 * spaces the requests started against one host.
 *
 * Waiters are served host by host in turn rather than strictly first-come, so that a queue of requests
 * to one slow or rate-limited host does not hold back requests to the others.
 */
import { RepriseError } from '../errors.ts';

export interface HostLimiterOptions {
  /** Requests in flight across all hosts. */
  concurrency: number;
  /** Requests in flight to one host. */
  perHostConcurrency: number;
  /** Requests started per second to one host; Infinity for no limit. */
  perHostRatePerSecond: number;
  /** Requests that may wait for a slot; more fail with QueueFullError instead of piling up in memory. */
  maxQueued?: number;
  /** Monotonic clock in ms, injectable for tests. */
  now?: () => number;
}

export const DEFAULT_MAX_QUEUED = 10_000;

export class QueueFullError extends RepriseError {
  override name = 'QueueFullError';
  constructor(readonly maxQueued: number) {
    super(
      `${maxQueued} requests are already waiting for a connection slot; work is being queued faster than the ` +
        'hosts are allowed to serve it (lower the harvester\'s parallelism, or raise the per-host rate if the servers allow it)',
    );
  }
}

export class LimiterClosedError extends RepriseError {
  override name = 'LimiterClosedError';
  constructor() {
    super('the HTTP client has been closed');
  }
}

/** Gives the slot back; calling it more than once has no further effect. */
export type Release = () => void;

interface Waiter {
  resolve: (release: Release) => void;
  reject: (reason: unknown) => void;
  signal: AbortSignal | undefined;
  onAbort: (() => void) | undefined;
}

interface HostState {
  name: string;
  active: number;
  queue: Waiter[];
  /**
   * Earliest time the next request may start: a token bucket one token deep, so requests are evenly
   * spaced instead of arriving in bursts after an idle spell.
   */
  nextStartAt: number;
}

function requirePositive(name: string, value: number, integer: boolean): void {
  if (!(value > 0) || (integer && !Number.isInteger(value))) {
    throw new RangeError(`${name} must be a positive ${integer ? 'integer' : 'number'}, got ${value}`);
  }
}

export class HostLimiter {
  private readonly hosts = new Map<string, HostState>();
  /** Hosts with waiters, in the order they will next be offered a slot. */
  private readonly waiting = new Set<HostState>();
  private active = 0;
  private queued = 0;
  private timer: NodeJS.Timeout | undefined;
  private timerAt = Infinity;
  private closed = false;
  private readonly intervalMs: number;
  private readonly maxQueued: number;
  private readonly now: () => number;

  constructor(private readonly opts: HostLimiterOptions) {
    requirePositive('concurrency', opts.concurrency, true);
    requirePositive('perHostConcurrency', opts.perHostConcurrency, true);
    requirePositive('perHostRatePerSecond', opts.perHostRatePerSecond, false);
    this.maxQueued = opts.maxQueued ?? DEFAULT_MAX_QUEUED;
    if (!(this.maxQueued >= 0)) throw new RangeError(`maxQueued must be 0 or more, got ${this.maxQueued}`);
    this.intervalMs = 1000 / opts.perHostRatePerSecond;
    this.now = opts.now ?? (() => performance.now());
  }

  /** Waits for a slot for `host`; rejects with the signal's reason if it aborts first. */
  acquire(host: string, signal?: AbortSignal): Promise<Release> {
    if (this.closed) return Promise.reject(new LimiterClosedError());
    if (signal?.aborted) return Promise.reject(signal.reason);
    if (this.queued >= this.maxQueued) return Promise.reject(new QueueFullError(this.maxQueued));
    const state = this.state(host);
    return new Promise<Release>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal, onAbort: undefined };
      if (signal) {
        waiter.onAbort = () => {
          this.removeWaiter(state, waiter);
          reject(signal.reason);
        };
        signal.addEventListener('abort', waiter.onAbort, { once: true });
      }
      state.queue.push(waiter);
      this.queued++;
      this.waiting.add(state);
      this.pump();
    });
  }

  /** Holds back new requests to `host` for `ms`, e.g. when it answered 429 or 503 with Retry-After. */
  defer(host: string, ms: number): void {
    if (this.closed) return;
    const state = this.state(host);
    state.nextStartAt = Math.max(state.nextStartAt, this.now() + ms);
    this.pump();
  }

  /** Rejects every waiter; slots already handed out stay valid until released. */
  close(): void {
    this.closed = true;
    this.clearTimer();
    for (const state of this.waiting) {
      for (const waiter of state.queue.splice(0)) {
        this.detach(waiter);
        waiter.reject(new LimiterClosedError());
      }
    }
    this.waiting.clear();
    this.queued = 0;
  }

  get stats(): { active: number; queued: number; hosts: number } {
    return { active: this.active, queued: this.queued, hosts: this.hosts.size };
  }

  private state(host: string): HostState {
    let state = this.hosts.get(host);
    if (!state) {
      state = { name: host, active: 0, queue: [], nextStartAt: -Infinity };
      this.hosts.set(host, state);
    }
    return state;
  }

  private removeWaiter(state: HostState, waiter: Waiter): void {
    const i = state.queue.indexOf(waiter);
    if (i < 0) return;
    state.queue.splice(i, 1);
    this.queued--;
    if (state.queue.length === 0) {
      this.waiting.delete(state);
      this.forgetIfIdle(state);
    }
  }

  private detach(waiter: Waiter): void {
    if (waiter.onAbort) waiter.signal?.removeEventListener('abort', waiter.onAbort);
  }

  /** Keeps the map from growing with every host ever seen, without losing a pending rate delay. */
  private forgetIfIdle(state: HostState): void {
    if (state.active === 0 && state.queue.length === 0 && state.nextStartAt <= this.now()) {
      this.hosts.delete(state.name);
    }
  }

  private pump(): void {
    if (this.closed) return;
    let wakeAt = Infinity;
    while (this.active < this.opts.concurrency && this.waiting.size > 0) {
      const now = this.now();
      let granted: HostState | undefined;
      for (const state of this.waiting) {
        if (state.active >= this.opts.perHostConcurrency) continue;
        if (state.nextStartAt > now) {
          wakeAt = Math.min(wakeAt, state.nextStartAt);
          continue;
        }
        granted = state;
        break;
      }
      if (!granted) break;
      this.grant(granted, now);
    }
    if (wakeAt < Infinity && this.active < this.opts.concurrency) this.wakeAt(wakeAt);
  }

  private grant(state: HostState, now: number): void {
    const waiter = state.queue.shift()!;
    this.queued--;
    this.detach(waiter);
    state.active++;
    this.active++;
    state.nextStartAt = Math.max(now, state.nextStartAt) + this.intervalMs;
    // Round robin: the host goes to the back of the line behind the other waiting hosts.
    this.waiting.delete(state);
    if (state.queue.length > 0) this.waiting.add(state);
    let released = false;
    waiter.resolve(() => {
      if (released) return;
      released = true;
      state.active--;
      this.active--;
      this.forgetIfIdle(state);
      this.pump();
    });
  }

  private wakeAt(at: number): void {
    if (this.timer && this.timerAt <= at) return;
    this.clearTimer();
    this.timerAt = at;
    // Not unref'd: a harvest awaiting a rate-limited slot must keep the process alive until it runs.
    this.timer = setTimeout(() => {
      this.timer = undefined;
      this.timerAt = Infinity;
      this.pump();
    }, Math.max(1, Math.ceil(at - this.now())));
  }

  private clearTimer(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    this.timerAt = Infinity;
  }
}
