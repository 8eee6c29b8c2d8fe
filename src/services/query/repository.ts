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
    const [rows] = await this.pool.query<RowDataPacket[]>(
      'SELECT id, name, price, stock, version, updated_at FROM product WHERE id = ?',
      [id],
    );
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
