// Reads a multi-document YAML stream (the output of `kubectl kustomize`) from stdin and validates every object
// against the Kubernetes API schema of its kind. Types, enums and required fields are checked; unknown fields are not.
import fs from "node:fs";
import { parseAllDocuments } from "yaml";

const docs = parseAllDocuments(fs.readFileSync(0, "utf8")).map((d) => d.toJS());
let invalid = 0;
for (const doc of docs) {
  const name = `${doc.kind}/${doc.metadata?.name}`;
  const [group, version] = doc.apiVersion.includes("/") ? doc.apiVersion.split("/") : [null, doc.apiVersion];
  const models = await import(group ? `kubernetes-models/${group}/${version}` : `kubernetes-models/${version}`);
  const Model = models[doc.kind];
  if (!Model) {
    invalid++;
    console.log(`unknown kind ${doc.apiVersion} ${name}`);
    continue;
  }
  try {
    new Model(doc).validate();
    console.log(`valid ${name}`);
  } catch (e) {
    invalid++;
    console.log(`INVALID ${name}: ${e.message}`);
  }
}
if (docs.length === 0) {
  console.log("no objects to validate");
  invalid++;
}
process.exit(invalid ? 1 : 0);
