/**
 * `npm run lint` runs this: no import cycle in src, type-only imports included (a cycle of types still ties the
 * modules together: none can be read, tested or moved on its own). Issue #27.
 */
module.exports = {
  forbidden: [
    {
      name: 'no-circular',
      severity: 'error',
      comment:
        'An import cycle: break it with a leaf module both sides import (see workloads/api.ts).',
      from: {},
      to: { circular: true },
    },
  ],
  options: {
    doNotFollow: { path: 'node_modules' },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: 'tsconfig.json' },
  },
};
