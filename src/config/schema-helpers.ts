import { Type, type ObjectOptions, type SchemaOptions, type TObject, type TProperties, type TUnsafe } from '@sinclair/typebox';
import type { Secret } from './secret.js';

// Building blocks for the component schemas. Each component owns its schema (config.ts beside it);
// src/config/site-schema.ts composes them. Every key carries a description (a test walks the tree).

/** A string enum as JSON Schema `enum`: one clear ajv error, where a union of literals gives N. */
export function StringEnum<const T extends readonly string[]>(
  values: T,
  options: SchemaOptions & { default?: T[number] },
): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/**
 * A secret: in the file it must be a `${ENV_VAR}` reference (the `secret` keyword checks that the
 * value came from interpolation); after validation the loader wraps it in a Secret.
 */
export function SecretString(options: SchemaOptions): TUnsafe<Secret> {
  return Type.Unsafe<Secret>({ type: 'string', minLength: 1, secret: true, ...options });
}

/** An object section: closed to unknown keys, and defaulted to {} so its inner defaults apply. */
export function Section<T extends TProperties>(
  properties: T,
  options: ObjectOptions & { description: string },
): TObject<T> {
  return Type.Object(properties, { additionalProperties: false, default: {}, ...options });
}
