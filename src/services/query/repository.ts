import type { Pool, RowDataPacket } from 'mysql2/promise';
import type { Failpoints } from '../../lib/failpoints';
import type { QueryMetrics } from './metrics';

/** The product as served and cached. `price` stays a string: DECIMAL(12,2) must not pass through a float. */
export interface Product {
  id: string;
  name: string;
  price: string;
  stock: number;
  version: number;
  updatedAt: string;
}

export interface Loaded {
  product: Product | null;
  /** How long the load took (ms), failpoint delay included — XFetch's δ: slow loads refresh earlier. */
  deltaMs: number;
}

/** Source of truth reads. Every load is counted here, so "DB queries" means exactly the SELECTs sent. */
export class ProductRepository {
  /** Loads in flight per product id in this process: a second one started meanwhile is a stampede's signature. */
  private readonly inFlight = new Map<string, number>();

  constructor(
    private readonly pool: Pool,
    private readonly failpoints: Failpoints,
    private readonly metrics: QueryMetrics,
  ) {}

  async load(id: string): Promise<Loaded> {
    const started = performance.now();
    // The experiments' slow-DB / failing-DB knob: a delay here makes concurrent misses overlap.
    await this.failpoints.hit('query.before-db-load');
    this.metrics.dbQueries.inc({ instance: this.metrics.instance });
    this.metrics.dbQueriesByKey.inc({ instance: this.metrics.instance, key: id });
    const already = this.inFlight.get(id) ?? 0;
    if (already > 0) this.metrics.concurrentLoads.inc({ instance: this.metrics.instance });
    this.inFlight.set(id, already + 1);
    const [rows] = await this.pool
      .query<RowDataPacket[]>(
        'SELECT id, name, price, stock, version, updated_at FROM product WHERE id = ?',
        [id],
      )
      .finally(() => {
        const left = (this.inFlight.get(id) ?? 1) - 1;
        if (left > 0) this.inFlight.set(id, left);
        else this.inFlight.delete(id);
      });
    const r = rows[0];
    const product = r
      ? {
          id: String(r.id),
          name: String(r.name),
          price: String(r.price),
          stock: Number(r.stock),
          version: Number(r.version),
          updatedAt: String(r.updated_at),
        }
      : null;
    return { product, deltaMs: Math.max(1, Math.round(performance.now() - started)) };
  }

  async ping(): Promise<boolean> {
    await this.pool.query('SELECT 1');
    return true;
  }
}
