// Test builders for the Modbus map: a device config with the schema's defaults applied (as the
// config loader does), and a single resolved tag for codec tests.
import assert from 'node:assert/strict';
import { Value } from '@sinclair/typebox/value';
import { DeviceSchema, type ModbusDeviceConfig, type ModbusTagConfig, type TagType, type WordOrder } from '../../../../src/protocols/modbus/config.js';
import { resolveDevice, type ResolvedTag } from '../../../../src/protocols/modbus/resolve.js';

type TagInput = Partial<ModbusTagConfig> & Pick<ModbusTagConfig, 'name' | 'address'>;
type DeviceInput = Partial<Omit<ModbusDeviceConfig, 'tags'>> & { tags: TagInput[] };

export function device(input: DeviceInput): ModbusDeviceConfig {
  return Value.Default(DeviceSchema, structuredClone({ name: 'dev', ...input })) as ModbusDeviceConfig;
}

/** One resolved holding-register tag at address 0 (or as `extra` says); fails on a config problem. */
export function tagOf(type: TagType, order: WordOrder = 'ABCD', extra: Partial<ModbusTagConfig> = {}): ResolvedTag {
  const area = type === 'bool' ? 'coil' : 'holding-register';
  const defaults: Partial<ModbusTagConfig> = type === 'bit' ? { bit: 0 } : type === 'string' ? { length: 2 } : {};
  const { tags, problems } = resolveDevice(device({ tags: [{ name: 't', address: 0, area, type, order, ...defaults, ...extra }] }));
  assert.deepEqual(problems, []);
  return tags[0]!;
}
