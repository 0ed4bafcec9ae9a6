import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import type { TSchema } from '@sinclair/typebox';

// ajv set up once per schema: every error at once, defaults filled in, strict about the schema
// itself. The custom `secret` keyword passes only values that interpolation produced; the context
// of one validation (which pointers were interpolated, which secrets were seen) is passed with
// `validate.call(context, data)`, so the compiled function holds no per-run state.

export interface ValidationContext {
  interpolated: ReadonlySet<string>;
  /** Filled during validation: pointers of valid secret values, to be wrapped afterwards. */
  secrets: string[];
}

export interface SchemaValidator {
  (this: ValidationContext, data: unknown): boolean;
  errors?: ErrorObject[] | null;
}

export function compileValidator(schema: TSchema): SchemaValidator {
  // strictRequired is off because `then: { required: [...] }` names keys defined beside the `if`.
  const ajv = new Ajv2020({
    allErrors: true,
    useDefaults: true,
    strict: true,
    strictRequired: false,
    verbose: true,
    passContext: true,
    discriminator: true,
  });
  ajv.addKeyword({
    keyword: 'secret',
    schemaType: 'boolean',
    errors: true,
    validate: function secret(
      this: ValidationContext,
      enabled: boolean,
      _data: unknown,
      _schema: unknown,
      cxt?: { instancePath: string },
    ): boolean {
      if (!enabled || cxt === undefined) return true;
      if (this.interpolated.has(cxt.instancePath)) {
        this.secrets.push(cxt.instancePath);
        return true;
      }
      (secret as unknown as ValidateFunction).errors = [
        {
          keyword: 'secret',
          instancePath: cxt.instancePath,
          schemaPath: '#/secret',
          params: {},
          message: 'must be a ${ENV_VAR} reference: secrets never stand in the config file',
        },
      ];
      return false;
    },
  });
  return ajv.compile(schema) as unknown as SchemaValidator;
}
