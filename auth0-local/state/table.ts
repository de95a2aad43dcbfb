/**
 * An ordered keyed collection. Rows keep the sequence number they were created with, so checkpoint pagination can
 * resume after any row in O(log n + page) and offset pages are slices; unique indexes make get-by-name O(1).
 * Every change is reported to `onChange`, which is how the store journals it.
 */
export interface TableChange {
  table: string;
  key: string;
  seq: number;
  value: unknown;
}

export type RowIndexer<T> = (row: T) => string | undefined;

export class Table<T extends object> {
  private readonly rows = new Map<string, { seq: number; value: T }>();
  private readonly orderKeys: string[] = [];
  private readonly orderSeqs: number[] = [];
  private readonly indexes = new Map<string, { of: RowIndexer<T>; map: Map<string, string> }>();

  constructor(
    readonly name: string,
    private readonly nextSeq: () => number,
    private readonly onChange: (change: TableChange) => void,
    indexes: Record<string, RowIndexer<T>> = {},
  ) {
    for (const [indexName, of] of Object.entries(indexes))
      this.indexes.set(indexName, { of, map: new Map() });
  }

  get size(): number {
    return this.rows.size;
  }

  get(key: string): T | undefined {
    return this.rows.get(key)?.value;
  }

  has(key: string): boolean {
    return this.rows.has(key);
  }

  /** O(1) lookup through a unique index declared at construction. */
  getBy(indexName: string, indexValue: string): T | undefined {
    const key = this.indexes.get(indexName)?.map.get(indexValue);
    return key === undefined ? undefined : this.get(key);
  }

  /** Inserts or replaces a row; a replaced row keeps its place in the order. */
  put(key: string, value: T): void {
    const existing = this.rows.get(key);
    const seq = existing?.seq ?? this.nextSeq();
    this.apply(key, seq, value);
    this.onChange({ table: this.name, key, seq, value });
  }

  delete(key: string): boolean {
    if (!this.rows.has(key)) return false;
    this.remove(key);
    this.onChange({ table: this.name, key, seq: 0, value: null });
    return true;
  }

  /** Applies a row without reporting it (used when loading persisted state). */
  apply(key: string, seq: number, value: T): void {
    const existing = this.rows.get(key);
    if (existing) {
      this.unindex(key, existing.value);
    } else {
      const at = this.positionAfter(seq);
      if (at === this.orderKeys.length) {
        this.orderKeys.push(key);
        this.orderSeqs.push(seq);
      } else {
        this.orderKeys.splice(at, 0, key);
        this.orderSeqs.splice(at, 0, seq);
      }
    }
    this.rows.set(key, { seq: existing?.seq ?? seq, value });
    for (const { of, map } of this.indexes.values()) {
      const indexValue = of(value);
      if (indexValue !== undefined) map.set(indexValue, key);
    }
  }

  remove(key: string): void {
    const existing = this.rows.get(key);
    if (!existing) return;
    this.unindex(key, existing.value);
    this.rows.delete(key);
    const at = this.positionAfter(existing.seq - 1);
    if (this.orderKeys[at] === key) {
      this.orderKeys.splice(at, 1);
      this.orderSeqs.splice(at, 1);
    }
  }

  /** Rows in creation order. */
  *values(): IterableIterator<T> {
    for (const key of this.orderKeys) {
      const row = this.rows.get(key);
      if (row) yield row.value;
    }
  }

  /** Rows with their keys and sequence numbers, for snapshots. */
  *entries(): IterableIterator<[string, number, T]> {
    for (const key of this.orderKeys) {
      const row = this.rows.get(key);
      if (row) yield [key, row.seq, row.value];
    }
  }

  seqOf(key: string): number | undefined {
    return this.rows.get(key)?.seq;
  }

  /** Offset page in creation order. */
  slice(start: number, count: number): T[] {
    const out: T[] = [];
    for (const key of this.orderKeys.slice(start, start + count)) {
      const row = this.rows.get(key);
      if (row) out.push(row.value);
    }
    return out;
  }

  /** Up to `take` rows created after the row with sequence `afterSeq`, plus whether more follow. */
  after(afterSeq: number, take: number): { rows: T[]; lastSeq: number | undefined; more: boolean } {
    const start = this.positionAfter(afterSeq);
    const keys = this.orderKeys.slice(start, start + take);
    const rows = keys.map((key) => this.rows.get(key)?.value).filter((row): row is T => row !== undefined);
    const lastSeq = keys.length > 0 ? this.orderSeqs[start + keys.length - 1] : undefined;
    return { rows, lastSeq, more: start + take < this.orderKeys.length };
  }

  private unindex(key: string, value: T): void {
    for (const { of, map } of this.indexes.values()) {
      const indexValue = of(value);
      if (indexValue !== undefined && map.get(indexValue) === key) map.delete(indexValue);
    }
  }

  /** First position whose sequence is greater than `seq` (binary search). */
  private positionAfter(seq: number): number {
    let low = 0;
    let high = this.orderSeqs.length;
    while (low < high) {
      const mid = (low + high) >>> 1;
      if ((this.orderSeqs[mid] ?? 0) <= seq) low = mid + 1;
      else high = mid;
    }
    return low;
  }
}
