import type { Component } from '../daemon/component.js';
import type { C37118SourceConfig } from './c37118/config.js';
import { C37118Source, type SourceContext } from './c37118/source.js';
import type { ModbusSourceConfig } from './modbus/config.js';
import { ModbusSource } from './modbus/source.js';
import type { OpcuaSourceConfig } from './opcua/config.js';
import { OpcuaSource } from './opcua/source.js';

// The explicit map from a source's `type` to its factory (STYLE.md: no registration by import
// side effects). Factories are pure: sockets open in start().

export type SourceConfig = C37118SourceConfig | ModbusSourceConfig | OpcuaSourceConfig;
export type { SourceContext };

export const SOURCE_FACTORIES: { readonly [K in SourceConfig['type']]: (config: Extract<SourceConfig, { type: K }>, ctx: SourceContext) => Component } = {
  c37118: (config, ctx) => new C37118Source(config, ctx),
  modbus: (config, ctx) => new ModbusSource(config, ctx),
  opcua: (config, ctx) => new OpcuaSource(config, ctx),
};

export function createSource(config: SourceConfig, ctx: SourceContext): Component {
  const factory = SOURCE_FACTORIES[config.type] as (config: SourceConfig, ctx: SourceContext) => Component;
  return factory(config, ctx);
}
