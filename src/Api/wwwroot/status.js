"use strict";
// The status page: reads the public JSON API and draws each job's loss curves as inline SVG.
const SVG = "http://www.w3.org/2000/svg";
const REFRESH_MS = 5000;

function el(tag, attributes = {}, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  for (const child of children) node.append(child instanceof Node ? child : document.createTextNode(String(child ?? "")));
  return node;
}

function svg(tag, attributes = {}, text) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attributes)) node.setAttribute(key, value);
  if (text !== undefined) node.textContent = text;
  return node;
}

function number(value, digits = 4) {
  if (value === null || value === undefined) return "–";
  if (typeof value !== "number") return String(value);
  return Math.abs(value) >= 1000 ? value.toLocaleString("en", { maximumFractionDigits: 0 }) : value.toPrecision(digits);
}

async function getJson(path) {
  const response = await fetch(path, { headers: { Accept: "application/json" } });
  if (!response.ok) throw new Error(`${path}: HTTP ${response.status}`);
  return response.json();
}

/** Training and validation loss per epoch, linear axes scaled to the data. */
function lossChart(history) {
  const width = 360, height = 170, left = 48, right = 10, top = 10, bottom = 28;
  const chart = svg("svg", { class: "loss-chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img",
    "aria-label": "Training and validation loss per epoch" });
  const losses = history.flatMap(h => [h.trainLoss, h.validationLoss]).filter(v => typeof v === "number" && isFinite(v));
  if (history.length === 0 || losses.length === 0) {
    chart.append(svg("text", { x: 10, y: height / 2 }, "No epochs yet"));
    return chart;
  }
  const maxEpoch = Math.max(...history.map(h => h.epoch)), minEpoch = Math.min(...history.map(h => h.epoch));
  const maxLoss = Math.max(...losses), minLoss = Math.min(0, ...losses);
  const x = e => left + (maxEpoch === minEpoch ? 0.5 : (e - minEpoch) / (maxEpoch - minEpoch)) * (width - left - right);
  const y = v => top + (1 - (v - minLoss) / ((maxLoss - minLoss) || 1)) * (height - top - bottom);
  chart.append(svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }));
  chart.append(svg("line", { class: "axis", x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }));
  chart.append(svg("text", { x: left - 4, y: top + 8, "text-anchor": "end" }, number(maxLoss, 3)));
  chart.append(svg("text", { x: left - 4, y: height - bottom, "text-anchor": "end" }, number(minLoss, 3)));
  chart.append(svg("text", { x: left, y: height - 12 }, `epoch ${minEpoch}`));
  chart.append(svg("text", { x: width - right, y: height - 12, "text-anchor": "end" }, `epoch ${maxEpoch}`));
  const line = key => history.filter(h => typeof h[key] === "number" && isFinite(h[key]))
    .map((h, i) => `${i === 0 ? "M" : "L"}${x(h.epoch).toFixed(1)},${y(h[key]).toFixed(1)}`).join(" ");
  const train = line("trainLoss"), validation = line("validationLoss");
  if (train) chart.append(svg("path", { class: "loss-train", d: train }));
  if (validation) chart.append(svg("path", { class: "loss-validation", d: validation }));
  chart.append(svg("text", { x: width - right, y: top + 8, "text-anchor": "end" }, "— train  - - validation"));
  return chart;
}

function renderActive(model) {
  const section = document.getElementById("active");
  const metrics = model.metrics ?? {};
  const block = (label, m) => el("div", {}, el("span", { class: "muted" }, label),
    el("strong", {}, m ? `RMSE ${number(m.rmse)}` : "–"), m ? `MAE ${number(m.mae)} · R² ${number(m.r2, 3)}` : "");
  section.replaceChildren(el("h2", {}, "Active model"),
    el("p", {}, el("code", {}, model.id), ` predicts `, el("strong", {}, model.target), ` from `,
      (model.features ?? []).map(f => f.name).join(", "), ` · ${model.architecture?.parameterCount ?? "?"} parameters`),
    el("div", { class: "metrics" }, block("Train", metrics.train), block("Validation", metrics.validation)));
}

function renderModels(models) {
  const rows = models.map(m => el("tr", {},
    el("td", {}, el("code", {}, m.id), m.active ? " (active)" : ""),
    el("td", {}, new Date(m.createdAt).toLocaleString()),
    el("td", {}, m.target ?? "–"),
    el("td", {}, (m.features ?? []).map(f => f.name).join(", ")),
    el("td", {}, number(m.metrics?.validation?.rmse)),
    el("td", {}, m.status ?? "")));
  document.querySelector("#models tbody").replaceChildren(...rows);
}

function renderJobs(jobs) {
  const container = document.getElementById("jobs");
  if (jobs.length === 0) {
    container.replaceChildren(el("p", { class: "muted" }, "No training jobs yet."));
    return;
  }
  container.replaceChildren(...jobs.map(job => el("div", { class: "job", "data-job-id": job.id },
    el("div", { class: "job-info" },
      el("div", {}, el("code", {}, job.id), " ", el("strong", { class: `status-${job.status}` }, job.status)),
      el("div", {}, `epoch ${job.progress?.epoch ?? 0} of ${job.progress?.epochs ?? "?"} · target ${job.request?.target ?? "?"}`),
      el("div", { class: "muted" }, `created ${new Date(job.createdAt).toLocaleString()}`),
      job.modelId ? el("div", {}, "model ", el("code", {}, job.modelId)) : "",
      job.error ? el("div", { class: "status-failed" }, job.error) : ""),
    lossChart(job.history ?? []))));
}

async function refresh() {
  const results = await Promise.allSettled([getJson("api/v1/models/active"), getJson("api/v1/models"), getJson("api/v1/training-jobs?limit=20")]);
  const [active, models, jobs] = results;
  if (active.status === "fulfilled") renderActive(active.value);
  else document.getElementById("active").replaceChildren(el("h2", {}, "Active model"), el("p", { class: "muted" }, active.reason.message));
  if (models.status === "fulfilled") renderModels(models.value);
  if (jobs.status === "fulfilled") renderJobs(jobs.value);
  const failed = results.filter(r => r.status === "rejected").map(r => r.reason.message);
  document.getElementById("updated").textContent = `Updated ${new Date().toLocaleTimeString()}` + (failed.length ? ` · ${failed.join("; ")}` : "");
}

refresh();
setInterval(refresh, REFRESH_MS);
