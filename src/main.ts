#!/usr/bin/env node
import { main } from './cli/index.js';

// Exit explicitly: a library handle left open must not keep a stopped gateway alive until systemd
// kills it. Logs and CLI output are written synchronously, so nothing is cut short.
process.exit(await main(process.argv.slice(2)));
