import { appendFileSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { HarvestedItem, IndexStage, IndexedRecord, StageOutcome } from './stage.ts';

export interface RecordedItem {
  itemId: string;
  record: IndexedRecord;
  width: number;
  height: number;
  imageHash: string;
}

/**
 * A stage for tests and benchmarks of the harvester alone (the CLI uses EmbeddingStage, or
 * MetadataStage without a model): it records what it is given, with upsert semantics like a
 * real store. With a file it appends one JSON line per operation.
 */
export class RecordingStage implements IndexStage {
  readonly id = 'recording';
  readonly items = new Map<string, RecordedItem>();
  /** Every call, in order: how many times each item was (re)indexed. */
  readonly operations: Array<{ op: 'index' | 'metadata' | 'remove'; itemId: string }> = [];

  constructor(private readonly file?: string) {
    if (file) {
      mkdirSync(path.dirname(file), { recursive: true });
      if (existsSync(file)) {
        for (const op of RecordingStage.readLog(file)) this.apply(op);
      }
    }
  }

  async index(items: HarvestedItem[]): Promise<StageOutcome[]> {
    return items.map((item) => {
      this.write({
        op: 'index',
        itemId: item.itemId,
        item: { itemId: item.itemId, record: item.record, width: item.image.width, height: item.image.height, imageHash: item.imageHash },
      });
      return { itemId: item.itemId, ok: true as const };
    });
  }

  async updateMetadata(records: Array<{ itemId: string; record: IndexedRecord }>): Promise<void> {
    for (const r of records) this.write({ op: 'metadata', itemId: r.itemId, record: r.record });
  }

  async remove(itemIds: string[]): Promise<void> {
    for (const itemId of itemIds) this.write({ op: 'remove', itemId });
  }

  async close(): Promise<void> {}

  private write(op: LoggedOperation): void {
    if (this.file) appendFileSync(this.file, JSON.stringify(op) + '\n');
    this.apply(op);
  }

  private apply(op: LoggedOperation): void {
    this.operations.push({ op: op.op, itemId: op.itemId });
    if (op.op === 'index' && op.item) this.items.set(op.itemId, op.item);
    else if (op.op === 'metadata' && op.record) {
      const existing = this.items.get(op.itemId);
      if (existing) existing.record = op.record;
    } else if (op.op === 'remove') this.items.delete(op.itemId);
  }

  static readLog(file: string): LoggedOperation[] {
    return readFileSync(file, 'utf8')
      .split('\n')
      .filter((line) => line.trim())
      .flatMap((line) => {
        try {
          return [JSON.parse(line) as LoggedOperation];
        } catch {
          return []; // a line torn by a kill
        }
      });
  }
}

interface LoggedOperation {
  op: 'index' | 'metadata' | 'remove';
  itemId: string;
  item?: RecordedItem;
  record?: IndexedRecord;
}
