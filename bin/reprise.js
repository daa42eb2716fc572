#!/usr/bin/env node
// `reprise` from the TypeScript sources, through tsx, for the tests and development: nothing to
// build first, and never a stale build. The package's own `reprise` (package.json `bin`) is the
// compiled dist/cli/bin.js, which needs no tsx; this file is not packed.
import { register } from 'tsx/esm/api';

register();
await import('../cli/bin.ts');
