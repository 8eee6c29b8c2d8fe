#!/usr/bin/env node
// oclif entry point: commands are the compiled classes under dist/src/cli/commands (run `npm run build`).
const { execute } = require('@oclif/core');
execute({ dir: __dirname }).catch((err) => {
  // Typed lab errors already carry their fix; print them without a stack trace.
  if (err && err.labError) {
    console.error(`error: ${err.message}`);
    process.exit(err.exitCode || 1);
  }
  require('@oclif/core').handle(err);
});
