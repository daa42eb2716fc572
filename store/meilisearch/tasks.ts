import type { EnqueuedTask, Meilisearch, Task } from 'meilisearch';
import { StoreError, StoreTaskError } from '../errors.ts';

/**
 * Every write in Meilisearch is a task that the server runs later; the client resolves once the
 * task is *enqueued* and never throws when it then fails. A write is only done when its task
 * has succeeded, so every task goes through here.
 */
export class TaskWaiter {
  constructor(
    private readonly client: Meilisearch,
    private readonly timeoutMs: number,
  ) {}

  /** Waits for the task to finish; a failed or canceled task throws StoreTaskError with Meilisearch's code. */
  async wait(enqueued: EnqueuedTask | Promise<EnqueuedTask>): Promise<Task> {
    const { taskUid } = await enqueued;
    const task = await this.poll(taskUid);
    if (task.status === 'succeeded') return task;
    if (task.status === 'canceled') {
      throw new StoreTaskError('task_canceled', `the ${task.type} task was canceled (by task ${task.canceledBy ?? '?'})`, task.uid);
    }
    throw new StoreTaskError(task.error?.code ?? 'unknown', task.error?.message ?? `the ${task.type} task failed without an error`, task.uid);
  }

  /** Waits for several tasks in order and throws the first failure, after all have finished, so none is left running unseen. */
  async waitAll(enqueued: Array<Promise<EnqueuedTask>>): Promise<Task[]> {
    const settled = await Promise.allSettled(enqueued.map((e) => this.wait(e)));
    const failed = settled.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed) throw failed.reason;
    return settled.map((s) => (s as PromiseFulfilledResult<Task>).value);
  }

  private async poll(uid: number): Promise<Task> {
    const deadline = Date.now() + this.timeoutMs;
    // Short first waits keep small writes quick; the cap keeps long indexing from flooding the server.
    let delay = 5;
    for (;;) {
      const task = await this.client.tasks.getTask(uid);
      if (task.status !== 'enqueued' && task.status !== 'processing') return task;
      const left = deadline - Date.now();
      if (left <= 0) {
        throw new StoreError(
          `Meilisearch task ${uid} (${task.type}) is still ${task.status} after ${this.timeoutMs} ms ` +
            `(store.meilisearch.taskTimeoutMs); it goes on on the server, and its outcome is unknown here`,
        );
      }
      await new Promise((resolve) => setTimeout(resolve, Math.min(delay, left)));
      delay = Math.min(delay * 1.5, 250);
    }
  }
}
