import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import type { Logger } from 'pino';
import type { RepriseConfig } from '../../config/index.ts';
import type { HarvestController, HarvestStart, HarvestStatus } from '../../plugin/index.ts';
import { EXIT, EXIT_ON_SIGNAL } from '../exit.ts';
import { logListening, startServer, type RunningServer } from './server.ts';

/**
 * `reprise serve --workers N`: N processes answer on one port (node:cluster; the primary
 * process only supervises). Node answers a request on one thread, so a second process is what
 * lets the server use a second core.
 *
 * The store keeps one writer: the first worker opens it as `reprise serve` always did (its HNSW
 * index in memory, saved beside SQLite, the admin harvests run there); the others open it as
 * readers, which map the writer's saved index file (usearch view(): the pages are shared by
 * every process through the OS, not copied into each) and follow its changes through SQLite's
 * change log. A reader hands admin harvest requests to the writer through the primary. A worker
 * that dies is started again; the readers start once the writer listens, so that the files they
 * map are there.
 */

const ROLE = 'REPRISE_SERVE_ROLE';
/** How long a reader waits for the writer to answer an admin harvest request. */
const ASK_TIMEOUT_MS = 10_000;
/** Restarts allowed in a minute before the primary gives up (a worker that dies at once would loop). */
const MAX_RESTARTS_PER_MINUTE = 5;

type HarvestOp = { op: 'start'; urls: string[] } | { op: 'status' };
type Message =
  | { type: 'listening'; url: string }
  | ({ type: 'harvest'; id: number } & HarvestOp)
  | { type: 'harvest-reply'; id: number; result?: HarvestStart | HarvestStatus; error?: string }
  | { type: 'shutdown' };

const isMessage = (m: unknown): m is Message => typeof m === 'object' && m !== null && typeof (m as { type?: unknown }).type === 'string';

export interface ServeWorkersOptions {
  /** Told the URL once every worker listens (benchmarks; the log says it too). */
  onListening?: (url: string) => void;
}

export async function serveWithWorkers(config: RepriseConfig, logger: Logger, options: ServeWorkersOptions = {}): Promise<number> {
  return cluster.isWorker ? runWorker(config, logger) : runPrimary(config, logger, options);
}

// --- the primary ----------------------------------------------------------------------------

async function runPrimary(config: RepriseConfig, logger: Logger, options: ServeWorkersOptions): Promise<number> {
  const count = config.api.workers;
  let writer: Worker | undefined;
  const live = new Set<Worker>();
  let shuttingDown = false;
  let listening = 0;
  let announced = false;
  const restarts: number[] = [];
  /** Harvest requests relayed to the writer: the primary's id → the reader and its own id. */
  const relayed = new Map<number, { from: Worker; id: number }>();
  let nextId = 1;
  let firstUrl: string | undefined;
  let failed: ((code: number) => void) | undefined;

  const answerReader = (from: Worker, id: number, reply: Omit<Extract<Message, { type: 'harvest-reply' }>, 'type' | 'id'>) => {
    if (from.isConnected()) from.send({ type: 'harvest-reply', id, ...reply } satisfies Message);
  };

  const fork = (role: 'writer' | 'reader'): Worker => {
    const worker = cluster.fork({ [ROLE]: role });
    live.add(worker);
    if (role === 'writer') writer = worker;
    let up = false;
    worker.on('message', (m: unknown) => {
      if (!isMessage(m)) return;
      if (m.type === 'listening') {
        up = true;
        firstUrl ??= m.url;
        listening++;
        if (role === 'writer' && listening === 1 && !announced) for (let i = 1; i < count; i++) fork('reader');
        if (listening >= count && !announced) {
          announced = true;
          logListening(logger, config, { url: m.url } as RunningServer);
          logger.info({ type: 'workers', workers: count }, `${count} worker processes answer on ${m.url} (one writer, ${count - 1} reader${count > 2 ? 's' : ''})`);
          options.onListening?.(m.url);
        }
      } else if (m.type === 'harvest') {
        if (!writer?.isConnected()) return answerReader(worker, m.id, { error: 'the writer process is restarting' });
        const id = nextId++;
        relayed.set(id, { from: worker, id: m.id });
        writer.send({ ...m, id } satisfies Message);
      } else if (m.type === 'harvest-reply') {
        const to = relayed.get(m.id);
        relayed.delete(m.id);
        if (to) answerReader(to.from, to.id, { ...(m.result ? { result: m.result } : {}), ...(m.error ? { error: m.error } : {}) });
      }
    });
    worker.on('exit', (code, signal) => {
      live.delete(worker);
      if (up) listening--;
      if (worker === writer) {
        writer = undefined;
        for (const [id, r] of relayed) {
          relayed.delete(id);
          answerReader(r.from, r.id, { error: 'the writer process stopped' });
        }
      }
      if (shuttingDown) return;
      if (!up) {
        // It never listened (port in use, no model and no index…): its own log said why; starting it again would say it again.
        logger.error({ type: 'worker-failed', role, code, signal }, `a ${role} worker exited before listening (code ${code ?? signal}); stopping`);
        failed?.(code || EXIT.FATAL);
        return;
      }
      const now = Date.now();
      restarts.push(now);
      while (restarts.length && restarts[0]! < now - 60_000) restarts.shift();
      if (restarts.length > MAX_RESTARTS_PER_MINUTE) {
        logger.error({ type: 'worker-failed', role, code, signal }, `workers died ${restarts.length} times within a minute; stopping`);
        failed?.(EXIT.FATAL);
        return;
      }
      logger.warn({ type: 'worker-exit', role, code, signal }, `a ${role} worker exited (${code ?? signal}); starting another`);
      setTimeout(() => !shuttingDown && fork(role), 1000).unref();
    });
    return worker;
  };

  const stopAll = (): Promise<void> => {
    shuttingDown = true;
    for (const worker of live) if (worker.isConnected()) worker.send({ type: 'shutdown' } satisfies Message);
    return new Promise((resolve) => {
      const check = () => (live.size === 0 ? resolve() : setTimeout(check, 50));
      check();
    });
  };

  const code = await new Promise<number>((resolve) => {
    failed = (c) => void stopAll().then(() => resolve(c));
    const stop = (signal: NodeJS.Signals) => {
      process.removeListener('SIGINT', stop);
      process.removeListener('SIGTERM', stop);
      // A second signal does not wait for the workers.
      process.once('SIGINT', () => process.exit(EXIT_ON_SIGNAL.SIGINT));
      process.once('SIGTERM', () => process.exit(EXIT_ON_SIGNAL.SIGTERM));
      logger.info({ type: 'shutdown', signal }, `${signal}: stopping ${live.size} worker processes (each finishes its requests in flight)`);
      void stopAll().then(() => resolve(EXIT.OK));
    };
    process.on('SIGINT', stop);
    process.on('SIGTERM', stop);
    fork('writer');
  });
  logger.info({ type: 'stopped' }, 'stopped');
  return code;
}

// --- a worker -------------------------------------------------------------------------------

async function runWorker(given: RepriseConfig, logger: Logger): Promise<number> {
  const role = process.env[ROLE] === 'reader' ? 'reader' : 'writer';
  // models.threads 0 means a thread a core: in N processes at once that is N times too many, and
  // the encoders' threads then fight over the cores. Each worker takes its share instead.
  const config: RepriseConfig =
    given.models.threads === 0 ? { ...given, models: { ...given.models, threads: Math.max(1, Math.floor(os.availableParallelism() / given.api.workers)) } } : given;
  const log = logger.child({ worker: cluster.worker?.id, role });
  const remote = role === 'reader' ? new WriterHarvestController() : undefined;
  let running: RunningServer;
  try {
    running = await startServer(config, { logger: log, role, ...(remote ? { harvest: remote } : {}) });
  } catch (err) {
    log.error({ err }, `the ${role} worker could not start: ${(err as Error).message}`);
    process.disconnect();
    return EXIT.FATAL;
  }
  if (role === 'writer') answerHarvestRequests(running.harvest);
  process.send!({ type: 'listening', url: running.url } satisfies Message);
  await new Promise<void>((resolve) => {
    let stopping = false;
    const stop = (why: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ type: 'shutdown', reason: why }, `${why}: finishing requests in flight, then closing the store`);
      running.close().then(resolve, (err: unknown) => {
        log.error({ err }, 'shutdown failed');
        resolve();
      });
    };
    const onSignal = (signal: NodeJS.Signals) => {
      // The terminal's Ctrl-C reaches every process of the group, and the primary says so too: one stop. A second signal exits.
      if (stopping) process.exit(EXIT_ON_SIGNAL[signal as 'SIGINT' | 'SIGTERM']);
      stop(signal);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    process.on('message', (m: unknown) => isMessage(m) && m.type === 'shutdown' && stop('the primary process stops'));
    process.once('disconnect', () => stop('the primary process went away'));
  });
  remote?.close();
  if (process.connected) process.disconnect();
  return EXIT.OK;
}

/** The writer answers the readers' admin harvest requests with its own controller. */
function answerHarvestRequests(controller: HarvestController): void {
  process.on('message', (m: unknown) => {
    if (!isMessage(m) || m.type !== 'harvest') return;
    void (async () => {
      try {
        const result = m.op === 'start' ? await controller.start(m.urls) : await controller.status();
        process.send?.({ type: 'harvest-reply', id: m.id, result } satisfies Message);
      } catch (err) {
        process.send?.({ type: 'harvest-reply', id: m.id, error: (err as Error).message } satisfies Message);
      }
    })();
  });
}

/** A reader's admin harvests: the writer process's controller, asked through the primary. */
class WriterHarvestController implements HarvestController {
  private nextId = 1;
  private readonly waiting = new Map<number, { resolve: (m: Extract<Message, { type: 'harvest-reply' }>) => void; timer: NodeJS.Timeout }>();
  private readonly onMessage = (m: unknown) => {
    if (!isMessage(m) || m.type !== 'harvest-reply') return;
    const waiter = this.waiting.get(m.id);
    if (!waiter) return;
    this.waiting.delete(m.id);
    clearTimeout(waiter.timer);
    waiter.resolve(m);
  };

  constructor() {
    process.on('message', this.onMessage);
  }

  private async ask(op: HarvestOp): Promise<HarvestStart | HarvestStatus> {
    const id = this.nextId++;
    const reply = await new Promise<Extract<Message, { type: 'harvest-reply' }>>((resolve) => {
      const timer = setTimeout(() => {
        this.waiting.delete(id);
        resolve({ type: 'harvest-reply', id, error: `the writer process did not answer within ${ASK_TIMEOUT_MS / 1000} s` });
      }, ASK_TIMEOUT_MS);
      this.waiting.set(id, { resolve, timer });
      process.send!({ type: 'harvest', id, ...op } satisfies Message);
    });
    if (reply.error !== undefined || !reply.result) throw new Error(reply.error ?? 'the writer process sent no answer');
    return reply.result;
  }

  async start(urls: string[]): Promise<HarvestStart> {
    try {
      return (await this.ask({ op: 'start', urls })) as HarvestStart;
    } catch (err) {
      return { started: false, reason: `${(err as Error).message}; try again` };
    }
  }

  async status(): Promise<HarvestStatus> {
    return (await this.ask({ op: 'status' })) as HarvestStatus;
  }

  close(): void {
    process.removeListener('message', this.onMessage);
    for (const { timer } of this.waiting.values()) clearTimeout(timer);
    this.waiting.clear();
  }
}
