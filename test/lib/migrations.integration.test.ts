import { expect } from 'chai';
import type { RowDataPacket } from 'mysql2/promise';
import { labPool } from '../../src/lib/db';
import { HISTORY_TABLE, migrate } from '../../src/lib/migrations';
import { ensureLab } from '../support/lab';

describe('schema migrations (umzug over db/migration)', function () {
  this.timeout(60_000);

  it('are idempotent, safe to run from several processes at once, and recorded in lab_schema_history', async () => {
    const c = await ensureLab();
    await migrate(c); // a fresh database gets its schema here, an old one finds nothing to do
    const runs = await Promise.all([migrate(c), migrate(c), migrate(c)]);
    for (const r of runs) expect(r.applied, 'already applied by the first call').to.deep.equal([]);
    expect((await migrate(c)).alreadyApplied).to.include('V1__init.sql');
    const pool = labPool(c, { connectionLimit: 1 });
    try {
      const [rows] = await pool.query<RowDataPacket[]>(
        `SELECT version, script, success FROM ${HISTORY_TABLE} ORDER BY installed_rank`,
      );
      expect(rows[0]).to.deep.include({ version: '1', script: 'V1__init.sql', success: 1 });
      const [tables] = await pool.query<RowDataPacket[]>(
        "SELECT table_name AS t FROM information_schema.tables WHERE table_schema = 'lab'",
      );
      expect(tables.map((r) => r.t)).to.include.members([
        'product',
        'outbox',
        'processed_event',
        'product_view',
        'side_effect_ledger',
        'command_log',
        HISTORY_TABLE,
      ]);
    } finally {
      await pool.end();
    }
  });
});
