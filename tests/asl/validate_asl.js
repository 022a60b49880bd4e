// Validates Amazon States Language documents with AWS's own language service (the validator behind
// Workflow Studio and the AWS Toolkit's editors): reads a JSON array of {name, definition} on stdin,
// writes a JSON array of {name, diagnostics: [{severity, message, line, character}]} on stdout.
"use strict";
const { getLanguageService, TextDocument } = require("amazon-states-language-service");

const SEVERITY = { 1: "error", 2: "warning", 3: "information", 4: "hint" };

async function validate(service, name, definition) {
  const document = TextDocument.create(`file:///${name}.asl.json`, "json", 1, definition);
  const json = service.parseJSONDocument(document);
  const diagnostics = await service.doValidation(document, json);
  return {
    name,
    diagnostics: diagnostics.map((d) => ({
      severity: SEVERITY[d.severity] || String(d.severity),
      message: d.message,
      line: d.range.start.line + 1,
      character: d.range.start.character + 1,
    })),
  };
}

async function main() {
  let input = "";
  for await (const chunk of process.stdin) input += chunk;
  const service = getLanguageService({});
  const results = [];
  for (const { name, definition } of JSON.parse(input)) results.push(await validate(service, name, definition));
  process.stdout.write(JSON.stringify(results));
}

main().catch((error) => {
  process.stderr.write(`validate_asl: ${error.stack || error}\n`);
  process.exit(2);
});
