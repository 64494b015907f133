// Checks the input and output schemas of a `tools/list` result against JSON Schema
// 2020-12 (its meta-schema, with Ajv) and against the strict subsets of the clients
// that constrain tool schemas, as their documentation states them:
//
// - openai: OpenAI's strict function schemas (Structured Outputs, "Supported schemas"),
//   for inputs: the root is an object and not `anyOf`; every object has
//   `additionalProperties: false` and lists every property in `required`; only the
//   supported keywords and string formats; at most 10 levels of nesting. The Agents
//   SDK (`ensure_strict_json_schema`) also needs `properties` on every object, or it
//   falls back to non-strict.
// - gemini: Gemini's JSON Schema for function declarations (`parametersJsonSchema`,
//   `responseJsonSchema`): only the keywords it lists, one `type` per node, no `const`
//   and no `$schema`.
// - inspector: the MCP Inspector's `--strict` lint: no `type` arrays (`type-union`), no
//   schema without a constraining keyword (`untyped-schema`), no bare boolean schema
//   (`boolean-schema`), no remote `$ref`.
//
//   node schema-check.mjs <tools/list result as a JSON file>
//
// Prints {"findings": [...]}: one entry per broken rule, empty when all pass.

import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";

const file = process.argv[2];
if (!file) {
  console.error("usage: node schema-check.mjs <tools.json>");
  process.exit(2);
}
const { tools } = JSON.parse(readFileSync(file, "utf8"));
const findings = [];
const report = (tool, which, rule, path, message) => findings.push({ tool, which, rule, path, message });

const OPENAI_KEYWORDS = new Set([
  "type", "properties", "required", "additionalProperties", "items", "anyOf", "enum", "const",
  "description", "title", "default", "$defs", "$ref", "pattern", "format", "multipleOf",
  "maximum", "exclusiveMaximum", "minimum", "exclusiveMinimum", "minItems", "maxItems",
]);
const OPENAI_FORMATS = new Set(["date-time", "time", "date", "duration", "email", "hostname", "ipv4", "ipv6", "uuid"]);
const GEMINI_KEYWORDS = new Set([
  "$id", "$defs", "$ref", "$anchor", "type", "format", "title", "description", "enum", "items",
  "prefixItems", "minItems", "maxItems", "minimum", "maximum", "anyOf", "oneOf", "properties",
  "additionalProperties", "required", "propertyOrdering",
]);
const CONSTRAINING = ["type", "enum", "const", "anyOf", "oneOf", "allOf", "not", "$ref", "properties", "items", "required", "additionalProperties", "if"];
const APPLICATORS_MAP = ["properties", "$defs", "patternProperties"];
const APPLICATORS_ONE = ["items", "additionalProperties", "not", "if", "then", "else", "contains", "propertyNames"];
const APPLICATORS_LIST = ["anyOf", "oneOf", "allOf", "prefixItems"];

/** Calls `visit(node, path, depth, parentKeyword)` for every subschema of `schema`. */
function walk(schema, visit, path = "", depth = 0, parent = null) {
  visit(schema, path, depth, parent);
  if (typeof schema !== "object" || schema === null) return;
  for (const keyword of APPLICATORS_MAP) {
    for (const [name, sub] of Object.entries(schema[keyword] ?? {})) walk(sub, visit, `${path}/${keyword}/${name}`, depth + 1, keyword);
  }
  for (const keyword of APPLICATORS_ONE) {
    if (keyword in schema) walk(schema[keyword], visit, `${path}/${keyword}`, depth + 1, keyword);
  }
  for (const keyword of APPLICATORS_LIST) {
    (schema[keyword] ?? []).forEach((sub, i) => walk(sub, visit, `${path}/${keyword}/${i}`, depth + 1, keyword));
  }
}

const isObjectSchema = (node) => node.type === "object" || "properties" in node;

function metaSchema(tool, which, schema) {
  const ajv = new Ajv2020({ strict: false, allErrors: true });
  if (!ajv.validateSchema(schema)) report(tool, which, "json-schema-2020-12", "", ajv.errorsText(ajv.errors));
  else {
    try {
      ajv.compile(schema);
    } catch (e) {
      report(tool, which, "json-schema-2020-12", "", String(e));
    }
  }
  if (schema?.type !== "object") report(tool, which, "mcp", "", "an MCP tool schema is an object schema");
}

function openai(tool, which, schema) {
  if (Array.isArray(schema.anyOf)) report(tool, which, "openai", "", "the root must not be anyOf");
  walk(schema, (node, path, depth, parent) => {
    if (typeof node !== "object" || node === null) {
      if (parent !== "additionalProperties") report(tool, which, "openai", path, "boolean schemas are not supported");
      return;
    }
    if (depth > 10 * 2) report(tool, which, "openai", path, "more than 10 levels of nesting");
    for (const keyword of Object.keys(node)) {
      if (!OPENAI_KEYWORDS.has(keyword)) report(tool, which, "openai", path, `keyword ${keyword} is not supported`);
    }
    if (typeof node.format === "string" && !OPENAI_FORMATS.has(node.format)) {
      report(tool, which, "openai", path, `format ${node.format} is not supported`);
    }
    if (isObjectSchema(node)) {
      if (node.additionalProperties !== false) report(tool, which, "openai", path, "objects need additionalProperties: false");
      if (!("properties" in node)) report(tool, which, "openai", path, "objects need properties (the Agents SDK falls back to non-strict)");
      const required = new Set(node.required ?? []);
      for (const name of Object.keys(node.properties ?? {})) {
        if (!required.has(name)) report(tool, which, "openai", `${path}/properties/${name}`, "every property must be required (optional ones nullable)");
      }
    }
  });
}

function gemini(tool, which, schema) {
  walk(schema, (node, path, depth, parent) => {
    if (typeof node !== "object" || node === null) {
      if (parent !== "additionalProperties") report(tool, which, "gemini", path, "boolean schemas are not supported");
      return;
    }
    for (const keyword of Object.keys(node)) {
      if (!GEMINI_KEYWORDS.has(keyword)) report(tool, which, "gemini", path, `keyword ${keyword} is not supported`);
    }
    if (Array.isArray(node.type)) report(tool, which, "gemini", path, "type must be a single type");
  });
}

function inspector(tool, which, schema) {
  walk(schema, (node, path, depth, parent) => {
    const underAdditional = ["additionalProperties", "unevaluatedProperties", "additionalItems", "unevaluatedItems"].includes(parent);
    if (typeof node === "boolean") {
      if (!underAdditional) report(tool, which, "inspector", path, "boolean-schema: a bare boolean where a schema belongs");
      return;
    }
    if (typeof node !== "object" || node === null) return;
    if (Array.isArray(node.type)) report(tool, which, "inspector", path, "type-union: a type array is less portable than anyOf");
    if (!CONSTRAINING.some((k) => k in node)) report(tool, which, "inspector", path, "untyped-schema: no constraining keyword");
    if (typeof node.$ref === "string" && !node.$ref.startsWith("#")) report(tool, which, "inspector", path, "remote-ref");
  });
}

for (const tool of tools) {
  const schemas = [["input", tool.inputSchema], ["output", tool.outputSchema]].filter(([, s]) => s !== undefined);
  for (const [which, schema] of schemas) {
    metaSchema(tool.name, which, schema);
    // OpenAI's strict mode constrains what a model fills in: the arguments.
    if (which === "input") openai(tool.name, which, schema);
    gemini(tool.name, which, schema);
    inspector(tool.name, which, schema);
  }
}
console.log(JSON.stringify({ findings }));
