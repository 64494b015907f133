// Checks a Kubernetes manifest (one YAML document) against a JSON Schema (2020-12, with
// Ajv), as kubectl's strict validation would refuse it, and prints the document as JSON
// so the caller can check what the schema cannot (that its variables are the app's).
//
//   node check-manifest.mjs <schema.json> <manifest.yaml>
//
// Exits 1 with the schema's findings on stderr if the document is invalid, 2 on usage.

import { readFileSync } from "node:fs";
import Ajv2020 from "ajv/dist/2020.js";
import { parseAllDocuments } from "yaml";

const [schemaFile, manifestFile] = process.argv.slice(2);
if (!schemaFile || !manifestFile) {
  console.error("usage: node check-manifest.mjs <schema.json> <manifest.yaml>");
  process.exit(2);
}

const documents = parseAllDocuments(readFileSync(manifestFile, "utf8"), { uniqueKeys: true });
const problems = documents.flatMap((doc) => doc.errors.map((e) => e.message));
if (documents.length !== 1) {
  problems.push(`expected one YAML document, found ${documents.length}`);
}
if (problems.length > 0) {
  console.error(problems.join("\n"));
  process.exit(1);
}
const manifest = documents[0].toJS();

const ajv = new Ajv2020({ allErrors: true, strict: true });
const validate = ajv.compile(JSON.parse(readFileSync(schemaFile, "utf8")));
if (!validate(manifest)) {
  for (const e of validate.errors) {
    console.error(`${e.instancePath || "/"}: ${e.message} ${JSON.stringify(e.params)}`);
  }
  process.exit(1);
}
console.log(JSON.stringify(manifest));
