// `npm run demo [-- --outage 30] [--seconds N] [--dir DIR] [--delivery spill|wal]`
//
// A newcomer's first look at gridgate: the local Kafka broker, a simulated substation (PMUs over
// TCP, UDP and TCP+UDP at 60 frames/s with scripted grid events, a Modbus TCP meter, an OPC UA
// server) and the gateway with config/demo-site.yaml, all on loopback, with a live status of what
// the gateway does and what arrived in Kafka. --outage S stops the broker for S seconds mid-run
// (--outage-at, default 30 s after the gateway is up) to show spooling and replay, then checks
// every topic with `gridgate verify-topic`. Ctrl-C (or --seconds) stops everything in order and
// checks the topics once more: exit 0 when every topic is clean.
//
// Everything lives in --dir (default /tmp/gridgate-demo, emptied at start): the broker's data,
// the gateway's spool and state, and a log file per process.
import { mkdir, rm } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { loadConfig } from '../../src/config/load.js';
import { configuredTopics } from '../../src/sinks/kafka/topics.js';
import { LocalBroker } from '../substation/broker.js';
import { caughtUp } from '../substation/caught-up.js';
import { ProcessGroup, type Child } from '../substation/children.js';
import { scrape } from '../substation/prometheus.js';
import { startSimulatedSite } from '../substation/simulated-site.js';
import { TopicTail } from '../substation/topic-tail.js';
import { verdictLines, verifyTopics } from '../substation/verify.js';
import { renderStatus, type ViewState } from './status-view.js';

const CONFIG = 'config/demo-site.yaml';
const SCENARIO = 'scripts/demo/pmu-events.yaml';

const { values: args } = parseArgs({
  options: {
    outage: { type: 'string', default: '0' },
    'outage-at': { type: 'string', default: '30' },
    seconds: { type: 'string' },
    dir: { type: 'string', default: '/tmp/gridgate-demo' },
    delivery: { type: 'string', default: 'spill' },
    help: { type: 'boolean', short: 'h' },
  },
});
if (args.help) {
  process.stdout.write(
    'npm run demo [-- --outage SECONDS] [--outage-at SECONDS] [--seconds N] [--dir DIR] [--delivery spill|wal]\n',
  );
  process.exit(0);
}
const outageS = Number(args.outage);
const outageAtS = Number(args['outage-at']);
const runForS = args.seconds === undefined ? undefined : Number(args.seconds);
if (![outageS, outageAtS, runForS ?? 1].every((n) => Number.isFinite(n) && n >= 0) || !['spill', 'wal'].includes(args.delivery!)) {
  process.stderr.write('demo: --outage, --outage-at and --seconds take seconds; --delivery spill or wal\n');
  process.exit(64);
}

const dir = resolve(args.dir!);
const logDir = join(dir, 'logs');
const env = { GRIDGATE_DEMO_DIR: dir, GRIDGATE_DEMO_DELIVERY: args.delivery! };
Object.assign(process.env, env);
const tty = process.stdout.isTTY === true;
/** The live view owns the screen until the demo stops; then (and without a terminal) lines are plain. */
let live = tty;
const say = (line: string): void => {
  view.events.push(`${new Date().toISOString().slice(11, 19)}  ${line}`);
  if (!live) process.stdout.write(`${line}\n`);
};

const config = await loadConfig(CONFIG);
const topics = configuredTopics(config.kafka);
const broker = new LocalBroker(9092, join(dir, 'kafka'), join(logDir, 'kafka.log'));
const group = new ProcessGroup();
const view: ViewState = { config, startedAt: Date.now(), broker: broker.bootstrap, brokerUp: false, previousCounts: new Map(), events: [] };
let tail: TopicTail | undefined;
let gateway: Child | undefined;
let refresh: NodeJS.Timeout | undefined;
let brokerStarting: Promise<void> | undefined;
let stopping: Promise<never> | undefined;
let stopRequestedAt = 0;

process.on('SIGINT', () => void stop('Ctrl-C'));
process.on('SIGTERM', () => void stop('SIGTERM'));

try {
  if (await broker.listening()) {
    throw new Error('something already listens on 127.0.0.1:9092 (a broker from `npm run kafka`? stop it: scripts/kafka-local stop)');
  }
  await rm(dir, { recursive: true, force: true });
  await mkdir(logDir, { recursive: true });
  process.stdout.write(`gridgate demo: everything in ${dir} (logs in ${logDir})\nstarting the Kafka broker on ${broker.bootstrap} (first run: fetching its jars from Maven Central)…\n`);
  await startBroker();
  view.brokerUp = true;
  say(`Kafka broker up on ${broker.bootstrap}`);

  const site = await startSimulatedSite(group, config, CONFIG, { logDir, pmu: (name) => (name === 'pdc-4' ? { pmus: 4, scenario: SCENARIO } : { scenario: SCENARIO }) });
  say(`simulated substation up: ${site.simulators.length} devices (4 PMU streams, 7 PMUs at 60 frames/s; Modbus TCP; OPC UA)`);
  for (const t of site.trusted) say(`trusted the OPC UA simulator's certificate for ${t.source} (${t.thumbprint.slice(0, 16)}…), as \`gridgate opcua trust\` would`);

  gateway = group.start('gateway', ['run', '--config', CONFIG], { logFile: join(logDir, 'gateway.log'), env });
  const readyz = `http://${config.http.host}:${config.http.port}/readyz`;
  await gateway.until(() => fetch(readyz).then((r) => r.ok, () => false), Boolean, 60_000, 'ready (/readyz)');
  view.startedAt = Date.now();
  say(`gridgate running: node dist/src/main.js run --config ${CONFIG} (pid ${gateway.pid}; log ${join(logDir, 'gateway.log')})`);
  tail = new TopicTail(broker.bootstrap, topics);
  await tail.start();
  view.tail = tail;

  // From here the refresh timer keeps us alive; stop() (Ctrl-C, SIGTERM, --seconds) exits.
  refresh = setInterval(() => void draw(), tty ? 1000 : 5000);
  if (outageS > 0) void outage();
  if (runForS !== undefined) setTimeout(() => void stop(`--seconds ${runForS}`), runForS * 1000).unref();
} catch (err) {
  process.stderr.write(`demo: ${(err as Error).message}\n`);
  await shutdown();
  process.exit(1);
}

async function draw(): Promise<void> {
  if (tty && !live) return;
  try {
    view.previous = view.current;
    view.current = await scrape(`http://${config.http.host}:${config.http.port}/metrics`);
  } catch {
    // The gateway is stopping or restarting: show what we had.
  }
  const lines = renderStatus(view, tty, process.stdout.columns ?? 120);
  if (tty) process.stdout.write(`\x1b[H\x1b[J${lines.join('\n')}\n\nCtrl-C stops everything.  kcat -b ${broker.bootstrap} -t grid.anomalies -C -e  to read a topic yourself.\n`);
  else process.stdout.write(`${lines[0]}  |${lines.find((l) => l.startsWith('  acknowledged')) ?? ''}\n`);
}

async function outage(): Promise<void> {
  await sleep(outageAtS * 1000);
  if (stopping) return;
  say(`cutting the broker for ${outageS} s: records now spill to the spool`);
  view.outage = `outage: broker stopped`;
  await broker.stop();
  view.brokerUp = false;
  const downAt = Date.now();
  while (Date.now() - downAt < outageS * 1000 && !stopping) {
    view.outage = `outage: ${Math.round((Date.now() - downAt) / 1000)} of ${outageS} s`;
    await sleep(500);
  }
  if (stopping) return;
  view.outage = 'outage over: broker starting';
  await startBroker();
  view.brokerUp = true;
  const upAt = Date.now();
  say('broker back: replaying the spool in order, per stream, before new records');
  while (!stopping) {
    await sleep(500);
    const m = view.current;
    if (m && caughtUp(m) && Date.now() - upAt > 2000) break;
  }
  if (stopping) return;
  view.outage = undefined;
  say(`spool drained ${((Date.now() - upAt) / 1000).toFixed(1)} s after the broker came back; checking every topic with gridgate verify-topic`);
  const verdicts = await verifyTopics(topics, CONFIG, env);
  view.verify = verdictLines(verdicts);
  for (const line of view.verify) say(line);
}

/** Stop everything in order, check every topic, and exit: 0 when every topic is clean. */
function stop(reason: string): Promise<never> {
  if (stopping) {
    // A terminal may deliver one Ctrl-C twice (e.g. through a wrapper); a second press is deliberate.
    if (Date.now() - stopRequestedAt < 1000) return stopping;
    process.stderr.write('demo: second signal, killing everything\n');
    process.exit(130);
  }
  stopRequestedAt = Date.now();
  stopping = (async () => {
    clearInterval(refresh);
    if (live) {
      await draw();
      live = false;
    }
    say(`stopping (${reason}): gateway first (it flushes to Kafka), then the devices and the broker`);
    let clean = true;
    if (gateway) {
      const code = await gateway.stop(30_000);
      say(`gateway exited with ${code}`);
      clean &&= code === 0;
    }
    await tail?.stop();
    if (view.brokerUp) {
      const verdicts = await verifyTopics(topics, CONFIG, env);
      const lines = verdictLines(verdicts);
      clean &&= verdicts.every((v) => v.report.clean);
      process.stdout.write(`\ngridgate verify-topic, every topic from the beginning:\n${lines.map((l) => `  ${l}\n`).join('')}`);
    } else {
      clean = false;
    }
    await shutdown();
    process.stdout.write(`demo stopped. Logs: ${logDir}\n`);
    process.exit(clean ? 0 : 1);
  })();
  return stopping;
}

/** The broker's JVM outlives kafka-local start: a stop during a start waits for it, or the JVM stays behind. */
function startBroker(): Promise<void> {
  brokerStarting = broker.start();
  return brokerStarting;
}

async function shutdown(): Promise<void> {
  await group.stopAll(10_000);
  await brokerStarting?.catch(() => undefined);
  await broker.stop().catch(() => undefined);
}
