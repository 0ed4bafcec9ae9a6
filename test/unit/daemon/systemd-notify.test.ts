import assert from 'node:assert/strict';
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { DgramSocket } from 'node-unix-socket';
import pino from 'pino';
import { SystemdNotifier } from '../../../src/daemon/systemd-notify.js';
import { until } from '../../helpers/wait.js';

// sd_notify to a real unix datagram socket, the way systemd's NOTIFY_SOCKET receives it.

const silent = pino({ level: 'silent' });

function listen(address: string): { messages: string[]; close: () => void } {
  const socket = new DgramSocket();
  socket.bind(address);
  const messages: string[] = [];
  socket.on('data', (data: Buffer) => messages.push(data.toString()));
  return { messages, close: () => socket.close() };
}

describe('sd_notify', () => {
  it('sends READY, STATUS, RELOADING and STOPPING datagrams to a path socket', async () => {
    const path = join(await mkdtemp(join(tmpdir(), 'gridgate-notify-')), 'notify.sock');
    const peer = listen(path);
    const notifier = new SystemdNotifier(silent, { NOTIFY_SOCKET: path });
    assert.equal(notifier.enabled, true);
    notifier.ready('kafka live');
    notifier.reloading();
    notifier.status('3 sources up');
    notifier.stopping('draining');
    await until(() => peer.messages.length === 4, 'four datagrams', 2000);
    assert.equal(peer.messages[0], 'READY=1\nSTATUS=kafka live');
    assert.match(peer.messages[1]!, /^RELOADING=1\nMONOTONIC_USEC=\d+\nSTATUS=reloading the config$/);
    assert.deepEqual(peer.messages.slice(2), ['STATUS=3 sources up', 'STOPPING=1\nSTATUS=draining']);
    notifier.close();
    peer.close();
  });

  it('reaches an abstract socket written @name, and pings the watchdog at half WATCHDOG_USEC', async () => {
    const name = `gridgate-test-${process.pid}`;
    const peer = listen(`\0${name}`);
    const notifier = new SystemdNotifier(silent, { NOTIFY_SOCKET: `@${name}`, WATCHDOG_USEC: '200000' });
    notifier.startWatchdog();
    await until(() => peer.messages.length >= 3, 'three pings', 2000);
    assert.ok(peer.messages.every((m) => m === 'WATCHDOG=1'));
    notifier.close();
    peer.close();
  });

  it('does nothing outside systemd, and ignores a watchdog meant for another process', () => {
    const none = new SystemdNotifier(silent, {});
    assert.equal(none.enabled, false);
    none.ready('x');
    none.startWatchdog();
    none.close();
    const other = new SystemdNotifier(silent, { NOTIFY_SOCKET: '/nonexistent/notify', WATCHDOG_USEC: '1000', WATCHDOG_PID: String(process.pid + 1) });
    other.startWatchdog(); // no timer: the process would not stay alive on it anyway, but nothing is sent either
    other.ready('x'); // an unreachable socket is logged once, never thrown
    other.close();
  });
});
