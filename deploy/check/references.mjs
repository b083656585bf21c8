// Reads a multi-document YAML stream (the output of `kubectl kustomize`) from stdin and checks what the schemas cannot:
// that the objects refer to each other correctly. A Deployment's selector matches its own pods; every Service, PodDisruptionBudget
// and HorizontalPodAutoscaler reaches at least one Deployment; no Service sends client traffic to training workers; every
// ConfigMap a pod reads is rendered too. Secrets are the operator's (deploy/README.md), so they are listed, not required.
import fs from "node:fs";
import { parseAllDocuments } from "yaml";

const docs = parseAllDocuments(fs.readFileSync(0, "utf8")).map((d) => d.toJS());
const ofKind = (kind) => docs.filter((d) => d.kind === kind);
const deployments = ofKind("Deployment");
const configMaps = new Set(ofKind("ConfigMap").map((d) => d.metadata.name));
const errors = [];
const secrets = new Set();

const matches = (selector, labels) => Object.entries(selector ?? {}).every(([k, v]) => labels?.[k] === v);
// Training workers set Training__RunJobs=true explicitly; API replicas set false (the single pod leaves the default).
const runsJobs = (d) => d.spec.template.spec.containers
  .some((c) => (c.env ?? []).some((e) => e.name === "Training__RunJobs" && e.value === "true"));
const selecting = (selector) => deployments.filter((d) => matches(selector, d.spec.template.metadata?.labels));

for (const d of deployments) {
  const name = `Deployment/${d.metadata.name}`;
  if (!matches(d.spec.selector.matchLabels, d.spec.template.metadata?.labels)) {
    errors.push(`${name}: selector does not match its pod template's labels`);
  }
  for (const c of d.spec.template.spec.containers) {
    for (const from of c.envFrom ?? []) {
      if (from.configMapRef && !configMaps.has(from.configMapRef.name)) {
        errors.push(`${name}: envFrom ConfigMap ${from.configMapRef.name} is not rendered`);
      }
      if (from.secretRef) secrets.add(from.secretRef.name);
    }
    for (const env of c.env ?? []) {
      const ref = env.valueFrom?.configMapKeyRef;
      if (ref && !configMaps.has(ref.name)) errors.push(`${name}: env ${env.name} reads ConfigMap ${ref.name}, which is not rendered`);
      if (env.valueFrom?.secretKeyRef) secrets.add(`${env.valueFrom.secretKeyRef.name} (key ${env.valueFrom.secretKeyRef.key})`);
    }
  }
}

for (const s of ofKind("Service")) {
  const pods = selecting(s.spec.selector);
  if (pods.length === 0) errors.push(`Service/${s.metadata.name}: selects no Deployment's pods`);
  for (const d of pods) {
    const ports = d.spec.template.spec.containers.flatMap((c) => c.ports ?? []);
    for (const p of s.spec.ports) {
      if (typeof p.targetPort === "string" && !ports.some((cp) => cp.name === p.targetPort)) {
        errors.push(`Service/${s.metadata.name}: Deployment/${d.metadata.name} has no port named ${p.targetPort}`);
      }
    }
  }
  for (const d of pods.filter(runsJobs)) {
    errors.push(`Service/${s.metadata.name}: sends client traffic to Deployment/${d.metadata.name}, a training worker`);
  }
  console.log(`Service/${s.metadata.name} -> ${pods.map((d) => `Deployment/${d.metadata.name}`).join(", ") || "nothing"}`);
}

for (const p of ofKind("PodDisruptionBudget")) {
  const pods = selecting(p.spec.selector.matchLabels);
  if (pods.length === 0) errors.push(`PodDisruptionBudget/${p.metadata.name}: selects no Deployment's pods`);
  console.log(`PodDisruptionBudget/${p.metadata.name} -> ${pods.map((d) => `Deployment/${d.metadata.name}`).join(", ") || "nothing"}`);
}

for (const h of ofKind("HorizontalPodAutoscaler")) {
  const target = h.spec.scaleTargetRef;
  const found = target.kind === "Deployment" && deployments.find((d) => d.metadata.name === target.name);
  if (!found) {
    errors.push(`HorizontalPodAutoscaler/${h.metadata.name}: no ${target.kind}/${target.name} is rendered`);
  } else {
    // Utilization is a share of the request: without one the HPA cannot compute it.
    for (const m of (h.spec.metrics ?? []).filter((m) => m.type === "Resource")) {
      if (found.spec.template.spec.containers.some((c) => !c.resources?.requests?.[m.resource.name])) {
        errors.push(`HorizontalPodAutoscaler/${h.metadata.name}: ${target.name} has a container without a ${m.resource.name} request`);
      }
    }
  }
  console.log(`HorizontalPodAutoscaler/${h.metadata.name} -> ${target.kind}/${target.name}`);
}

for (const s of [...secrets].sort()) console.log(`expects Secret ${s} (created by the operator)`);
for (const e of errors) console.log(`BROKEN ${e}`);
process.exit(errors.length ? 1 : 0);
