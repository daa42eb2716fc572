#!/usr/bin/env node
// The `reprise` command: package.json's `bin` runs this file compiled (dist/cli/bin.js).
import { main } from './reprise.ts';

process.exitCode = await main(process.argv);
