// Generates lambdas/events/schema-validator.ts from events.schema.json with ajv's standalone code generation:
// one validator per event the parsers read, so that the Lambda checks the shape of what arrives
// with precompiled code and no schema compilation at cold start.
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { readFileSync } from 'node:fs';
import { standaloneSource, withoutAnnotations, writeIfChanged, type Schema } from './policy-validator';

export const EVENTS_SCHEMA_FILE = 'events.schema.json';
export const EVENTS_VALIDATOR_FILE = 'lambdas/events/schema-validator.ts';

/** The exported validators of the generated module, by the schema definition each checks. */
export const EVENT_VALIDATORS = {
  validateStatusRequest: 'statusRequest',
  validateEip1559TransactionRequest: 'eip1559TransactionRequest',
  validateLegacyTransactionRequest: 'legacyTransactionRequest',
  validateSignMessageRequest: 'signMessageRequest',
  validateSignTypedDataRequest: 'signTypedDataRequest',
  validateSignAuthorizationRequest: 'signAuthorizationRequest',
} as const;

/** The ajv options the events schema is compiled with (tests compile the whole schema with the same). */
export const EVENTS_AJV_OPTIONS = { allErrors: true, strict: true, allowUnionTypes: true } as const;
// For the Lambda bundle: each definition once, as a function (the two transaction validators share them), and
// no English messages (lambdas/events/request.ts words its own from the keyword and the value): 31 KiB of
// minified code becomes 20 KiB.
const BUNDLE_OPTIONS = { inlineRefs: false, messages: false } as const;

/** The TypeScript source of the standalone validators for events.schema.json. */
export function generateEventsValidatorSource(schemaFile = EVENTS_SCHEMA_FILE): string {
  const schema = withoutAnnotations(JSON.parse(readFileSync(schemaFile, 'utf8')) as Schema);
  const ajv = new Ajv({ code: { source: true, esm: true, optimize: true }, ...EVENTS_AJV_OPTIONS, ...BUNDLE_OPTIONS });
  ajv.addSchema(schema);
  const id = String(schema.$id);
  const refs = Object.fromEntries(Object.entries(EVENT_VALIDATORS).map(([name, definition]) => [name, `${id}#/definitions/${definition}`]));
  return standaloneSource(standaloneCode(ajv, refs), EVENTS_SCHEMA_FILE, 'scripts/events-validator.ts');
}

/** Writes the validator module; returns whether it changed. */
export function writeEventsValidator(): boolean {
  return writeIfChanged(EVENTS_VALIDATOR_FILE, generateEventsValidatorSource());
}
