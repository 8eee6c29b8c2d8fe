/**
 * `npm run dashboards [-- DIR]`: writes grafana/dashboards/*.json (or into DIR) from src/dashboards. Edit the panels
 * there, run this, commit both; test/grafana/dashboards.test.ts fails while the committed JSON is stale.
 */
import * as path from 'node:path';
import { writeDashboards } from './index';

const root = path.resolve(__dirname, '..', '..', '..');
const arg = process.argv[2];
const written = writeDashboards(path.resolve(arg ?? path.join(root, 'grafana', 'dashboards')));
if (!arg) console.log(`wrote ${written.map((f) => path.relative(root, f)).join(', ')}`);
