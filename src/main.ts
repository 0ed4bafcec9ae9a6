#!/usr/bin/env node
import { main } from './cli/index.js';

// Exit explicitly: a library handle left open must not keep a stopped gateway alive until systemd
// kills it. But first let stdout and stderr drain: to a pipe (`gridgate verify-topic --json | jq`)
// Node writes asynchronously, and exiting at once cut the output at the pipe's 64 KiB. A reader
// that stops reading cannot hold the exit for more than FLUSH_TIMEOUT_MS.

const FLUSH_TIMEOUT_MS = 5000;

const flushed = (stream: NodeJS.WriteStream): Promise<void> => new Promise((resolve) => stream.write('', () => resolve()));

const code = await main(process.argv.slice(2));
const timeout = new Promise<void>((resolve) => setTimeout(resolve, FLUSH_TIMEOUT_MS).unref());
await Promise.race([Promise.all([flushed(process.stdout), flushed(process.stderr)]), timeout]);
process.exit(code);
