/**
 * Bounds the images rendered at once. Decoding and resizing are CPU and memory heavy, so
 * requests beyond `maxConcurrentRenders` wait, and beyond `maxQueuedRenders` waiting ones
 * are turned away with 503 and Retry-After rather than piling up.
 */
import { BusyError } from './errors.ts';

export class RenderQueue {
  private active = 0;
  private readonly waiting: Array<() => void> = [];

  constructor(private readonly concurrency: number, private readonly maxQueued: number) {}

  async run<T>(job: () => Promise<T>): Promise<T> {
    if (this.active >= this.concurrency) {
      if (this.waiting.length >= this.maxQueued) {
        throw new BusyError(`${this.active} images are being rendered and ${this.waiting.length} are waiting: try again shortly`, 1);
      }
      await new Promise<void>((resolve) => this.waiting.push(resolve));
    } else {
      this.active++;
    }
    try {
      return await job();
    } finally {
      // The slot passes straight to the next waiter, so `active` never drops and rises again.
      const next = this.waiting.shift();
      if (next) next();
      else this.active--;
    }
  }

  get stats(): { active: number; waiting: number } {
    return { active: this.active, waiting: this.waiting.length };
  }
}
