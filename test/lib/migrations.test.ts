import { expect } from 'chai';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { migrationDir, migrationFiles } from '../../src/lib/migrations';
import { findRoot } from '../../src/lib/config';

describe('migration files', () => {
  const tmp = () => fs.mkdtempSync(path.join(os.tmpdir(), 'lab-mig-'));

  it('sorts by numeric version, V2 before V10', () => {
    const d = tmp();
    for (const f of ['V10__ten.sql', 'V2__two.sql', 'V1_1__one_dot_one.sql'])
      fs.writeFileSync(path.join(d, f), 'SELECT 1;');
    expect(migrationFiles(d).map((f) => [f.version, f.description])).to.deep.equal([
      ['1.1', 'one dot one'],
      ['2', 'two'],
      ['10', 'ten'],
    ]);
  });

  it('rejects a file that is not V<n>__<description>.sql', () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'init.sql'), '');
    expect(() => migrationFiles(d)).to.throw(
      /not a migration name; rename it to V<n>__<description>.sql/,
    );
  });

  it('rejects two files with one version', () => {
    const d = tmp();
    fs.writeFileSync(path.join(d, 'V1__a.sql'), '');
    fs.writeFileSync(path.join(d, 'V1__b.sql'), '');
    expect(() => migrationFiles(d)).to.throw(/two migrations share version 1/);
  });

  it('ships V1__init.sql creating every table of the event path', () => {
    const files = migrationFiles(migrationDir({ root: findRoot() }));
    const sql = fs.readFileSync(files[0].file, 'utf8');
    for (const t of [
      'product',
      'outbox',
      'processed_event',
      'product_view',
      'side_effect_ledger',
      'command_log',
    ])
      expect(sql).to.match(new RegExp(`CREATE TABLE IF NOT EXISTS ${t} \\(`));
    expect(sql).to.not.match(/side_effect_ledger[^;]*UNIQUE/);
  });
});
