import type { ModbusSourceConfig } from './config.js';
import { resolveDevice } from './resolve.js';

// What the schema cannot say about a Modbus source, each problem with the path of the key at
// fault (relative to the source), for check-config's file:line:column report: the transport's
// address, unique device names, and everything resolving the register map finds (addresses,
// types against areas, groups, lengths; src/protocols/modbus/resolve.ts).

export function modbusProblems(source: ModbusSourceConfig): { path: (string | number)[]; message: string }[] {
  const found: { path: (string | number)[]; message: string }[] = [];
  if (source.transport === 'rtu' && !source.serial) found.push({ path: ['transport'], message: 'transport rtu needs the serial section (path, baudRate, parity …)' });
  if (source.transport !== 'rtu' && !source.address) found.push({ path: ['transport'], message: `transport ${source.transport} needs address (HOST:PORT)` });
  const names = new Set<string>();
  source.devices.forEach((device, d) => {
    if (names.has(device.name)) found.push({ path: ['devices', d, 'name'], message: `"${device.name}" names another device of this source already` });
    names.add(device.name);
    for (const p of resolveDevice(device, source).problems) found.push({ path: ['devices', d, ...p.path], message: p.message });
  });
  return found;
}
