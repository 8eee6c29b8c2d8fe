/**
 * Preloaded into a service with NODE_OPTIONS=--require: startService spawns `node <entry>` with no way to add
 * node flags, and Node 20 refuses --cpu-prof inside NODE_OPTIONS. The in-process inspector session answers
 * synchronously, so stopping the profiler in an 'exit' handler works (services exit via process.exit on SIGTERM).
 */
import * as fs from 'node:fs';
import { Session } from 'node:inspector';

const file = process.env.BENCH_CPU_PROF_FILE;
if (file) {
  const s = new Session();
  s.connect();
  s.post('Profiler.enable');
  s.post('Profiler.setSamplingInterval', { interval: 500 });
  s.post('Profiler.start');
  process.on('exit', () => {
    s.post('Profiler.stop', (err, res) => {
      if (!err && res) fs.writeFileSync(file, JSON.stringify(res.profile));
    });
  });
}
