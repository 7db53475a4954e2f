// Generates lambdas/policy/schema-validator.ts from policy.schema.json with ajv's standalone code generation,
// so that the Lambda validates policies with precompiled code instead of compiling the schema at cold start.
import Ajv from 'ajv';
import standaloneCode from 'ajv/dist/standalone';
import { readFileSync, writeFileSync } from 'node:fs';

export const SCHEMA_FILE = 'policy.schema.json';
export const VALIDATOR_FILE = 'lambdas/policy/schema-validator.ts';

// The generated code would require() ajv's runtime helper for maxLength; an inline copy keeps the module
// free of require(), which tsx (ESM) and the Lambda bundle both prefer.
const UCS2LENGTH = 'function ucs2length(str) { let length = 0; for (const _ of str) length++; return length; }';

/** The TypeScript source of the standalone validator for the schema in `schemaFile`. */
export function generateValidatorSource(schemaFile = SCHEMA_FILE): string {
  const schema = withoutAnnotations(JSON.parse(readFileSync(schemaFile, 'utf8')) as Schema);
  const ajv = new Ajv({ code: { source: true, esm: true, optimize: true }, allErrors: true, strict: true });
  return standaloneSource(standaloneCode(ajv, ajv.compile(schema)), SCHEMA_FILE, 'scripts/policy-validator.ts');
}

/**
 * ajv's standalone `code` as a TypeScript module: its require() of ajv's runtime helper replaced by an inline
 * copy, with a header naming the schema and the script that generated it.
 */
export function standaloneSource(code: string, schemaFile: string, generator: string): string {
  const runtime = /const (\w+) = require\("ajv\/dist\/runtime\/ucs2length"\)\.default;/;
  const match = runtime.exec(code);
  const inlined = match ? code.replace(runtime, `const ${match[1]} = ucs2length;`) : code;
  if (/require\(/.test(inlined)) throw new Error(`the validator generated from ${schemaFile} still calls require(): inline the new ajv runtime helper`);
  return [
    `// Generated from ${schemaFile} by ${generator} (npm run build); do not edit.`,
    '// @ts-nocheck',
    '/* eslint-disable */',
    UCS2LENGTH,
    inlined.replace(/^"use strict";/, ''),
    '',
  ].join('\n');
}

/** A JSON Schema (or a part of one). */
export type Schema = { [keyword: string]: unknown };
const ANNOTATIONS = new Set(['title', 'description', 'examples', '$comment']);
const SCHEMA_MAPS = new Set(['properties', 'definitions', 'patternProperties']);
const SCHEMA_LISTS = new Set(['oneOf', 'anyOf', 'allOf']);
const SUBSCHEMAS = new Set(['items', 'additionalProperties', 'not', 'if', 'then', 'else', 'propertyNames']);

/**
 * The schema without its annotations (descriptions for editors), which the generated code would otherwise
 * embed: they change no verdict and would add tens of KB to every Lambda bundle.
 */
export function withoutAnnotations(schema: Schema): Schema {
  const result: Schema = {};
  for (const [keyword, value] of Object.entries(schema)) {
    if (ANNOTATIONS.has(keyword)) continue;
    if (SCHEMA_MAPS.has(keyword) && isSchema(value)) {
      result[keyword] = Object.fromEntries(Object.entries(value).map(([name, sub]) => [name, isSchema(sub) ? withoutAnnotations(sub) : sub]));
    } else if (SCHEMA_LISTS.has(keyword) && Array.isArray(value)) {
      result[keyword] = value.map((sub: unknown) => (isSchema(sub) ? withoutAnnotations(sub) : sub));
    } else if (SUBSCHEMAS.has(keyword) && isSchema(value)) {
      result[keyword] = withoutAnnotations(value);
    } else {
      result[keyword] = value;
    }
  }
  return result;
}

function isSchema(value: unknown): value is Schema {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** Writes the validator module; returns whether it changed. */
export function writeValidator(): boolean {
  return writeIfChanged(VALIDATOR_FILE, generateValidatorSource());
}

/** Writes `source` to `file` unless the file holds it already; returns whether it changed. */
export function writeIfChanged(file: string, source: string): boolean {
  let current = '';
  try {
    current = readFileSync(file, 'utf8');
  } catch {
    // first generation
  }
  if (current === source) return false;
  writeFileSync(file, source);
  return true;
}
