"use strict";
// The status page: reads the public JSON API and draws each job's loss curves and each sweep's leaderboard and trial
// curves as inline SVG.
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

/** Loss curves on shared linear axes scaled to the data: each series is {cls, points: [{epoch, value}], attributes}. */
function curvesChart(series, label, legend) {
  const width = 360, height = 170, left = 48, right = 10, top = 10, bottom = 28;
  const chart = svg("svg", { class: "loss-chart", width, height, viewBox: `0 0 ${width} ${height}`, role: "img", "aria-label": label });
  const drawn = series.map(s => ({ ...s, points: s.points.filter(p => typeof p.value === "number" && isFinite(p.value)) }))
    .filter(s => s.points.length > 0);
  const points = drawn.flatMap(s => s.points);
  if (points.length === 0) {
    chart.append(svg("text", { x: 10, y: height / 2 }, "No epochs yet"));
    return chart;
  }
  const maxEpoch = Math.max(...points.map(p => p.epoch)), minEpoch = Math.min(...points.map(p => p.epoch));
  const maxLoss = Math.max(...points.map(p => p.value)), minLoss = Math.min(0, ...points.map(p => p.value));
  const x = e => left + (maxEpoch === minEpoch ? 0.5 : (e - minEpoch) / (maxEpoch - minEpoch)) * (width - left - right);
  const y = v => top + (1 - (v - minLoss) / ((maxLoss - minLoss) || 1)) * (height - top - bottom);
  chart.append(svg("line", { class: "axis", x1: left, y1: top, x2: left, y2: height - bottom }));
  chart.append(svg("line", { class: "axis", x1: left, y1: height - bottom, x2: width - right, y2: height - bottom }));
  chart.append(svg("text", { x: left - 4, y: top + 8, "text-anchor": "end" }, number(maxLoss, 3)));
  chart.append(svg("text", { x: left - 4, y: height - bottom, "text-anchor": "end" }, number(minLoss, 3)));
  chart.append(svg("text", { x: left, y: height - 12 }, `epoch ${minEpoch}`));
  chart.append(svg("text", { x: width - right, y: height - 12, "text-anchor": "end" }, `epoch ${maxEpoch}`));
  for (const s of drawn) {
    const d = s.points.map((p, i) => `${i === 0 ? "M" : "L"}${x(p.epoch).toFixed(1)},${y(p.value).toFixed(1)}`).join(" ");
    chart.append(svg("path", { class: s.cls, d, ...(s.attributes ?? {}) }));
  }
  chart.append(svg("text", { x: width - right, y: top + 8, "text-anchor": "end" }, legend));
  return chart;
}

/** Training and validation loss per epoch of one job. */
function lossChart(history) {
  const points = key => history.map(h => ({ epoch: h.epoch, value: h[key] }));
  return curvesChart([{ cls: "loss-train", points: points("trainLoss") }, { cls: "loss-validation", points: points("validationLoss") }],
    "Training and validation loss per epoch", "— train  - - validation");
}

/** Each trial's validation loss per epoch (its first run's; the training loss where a run has no validation rows). */
function trialsChart(trials) {
  return curvesChart(trials.map(t => {
    const history = t.runs?.[0]?.history ?? [];
    const key = history.some(h => typeof h.validationLoss === "number") ? "validationLoss" : "trainLoss";
    return { cls: "loss-trial", points: history.map(h => ({ epoch: h.epoch, value: h[key] })),
      attributes: { "data-trial": t.trial, stroke: `hsl(${(t.trial * 137) % 360}, 60%, 45%)` } };
  }), "Validation loss per epoch of each trial", "validation loss, one line per trial");
}

function settingsText(settings) {
  return Object.entries(settings ?? {}).map(([k, v]) => `${k} ${Array.isArray(v) ? v.join("-") : number(v, 3)}`).join(" · ");
}

/** What a model reads: its feature columns, or for a tensor model its sample shape and head. */
function inputsText(model) {
  if (model.inputKind === "tensor") {
    const shape = model.architecture?.inputShape ?? [];
    return `[${shape.join(", ")}] tensors (${model.architecture?.head ?? "?"} head)`;
  }
  return (model.features ?? []).map(f => f.name).join(", ");
}

function renderActive(model) {
  const section = document.getElementById("active");
  const metrics = model.metrics ?? {};
  const block = (label, m) => el("div", {}, el("span", { class: "muted" }, label),
    el("strong", {}, m ? `RMSE ${number(m.rmse)}` : "–"), m ? `MAE ${number(m.mae)} · R² ${number(m.r2, 3)}` : "");
  section.replaceChildren(el("h2", {}, "Active model"),
    el("p", {}, el("code", {}, model.id), ` predicts `, el("strong", {}, model.target), ` from `,
      inputsText(model), ` · ${model.architecture?.parameterCount ?? "?"} parameters`),
    el("div", { class: "metrics" }, block("Train", metrics.train), block("Validation", metrics.validation)));
}

function renderModels(models) {
  const rows = models.map(m => el("tr", {},
    el("td", {}, el("code", {}, m.id), m.active ? " (active)" : ""),
    el("td", {}, new Date(m.createdAt).toLocaleString()),
    el("td", {}, m.target ?? "–"),
    el("td", {}, inputsText(m)),
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
      el("div", {}, `epoch ${job.progress?.epoch ?? 0} of ${job.progress?.epochs ?? "?"} · target ${job.request?.target ?? (job.request?.head ? `y (${job.request.head})` : "?")}`),
      el("div", { class: "muted" }, `created ${new Date(job.createdAt).toLocaleString()}`),
      job.modelId ? el("div", {}, "model ", el("code", {}, job.modelId)) : "",
      job.error ? el("div", { class: "status-failed" }, job.error) : ""),
    lossChart(job.history ?? []))));
}

/** Recent sweeps: status, the leaderboard (mean and spread over folds) and every trial's loss curve. */
async function renderSweeps(list) {
  const container = document.getElementById("sweeps");
  if (list.length === 0) {
    container.replaceChildren(el("p", { class: "muted" }, "No sweeps yet."));
    return;
  }
  const sweeps = await Promise.all(list.map(s => getJson(`api/v1/sweeps/${s.id}`)));
  container.replaceChildren(...sweeps.map(sweep => {
    const metric = sweep.request?.metric ?? "rmse";
    const rows = (sweep.leaderboard ?? []).map(e => el("tr", { "data-trial": e.trial },
      el("td", {}, e.rank), el("td", {}, e.trial), el("td", {}, settingsText(e.settings)),
      el("td", {}, `${number(e.score)} ± ${number(e.spread, 2)}`), el("td", {}, e.modelId ? el("code", {}, e.modelId) : "–")));
    return el("div", { class: "sweep", "data-sweep-id": sweep.id },
      el("div", { class: "job" },
        el("div", { class: "job-info" },
          el("div", {}, el("code", {}, sweep.id), " ", el("strong", { class: `status-${sweep.status}` }, sweep.status)),
          el("div", {}, `${sweep.trials.length} trials · ${sweep.request?.folds ? `${sweep.request.folds}-fold CV` : "validation split"} · `
            + `epochs ${sweep.progress?.epoch ?? 0} of ${sweep.progress?.epochs ?? "?"}`),
          el("div", { class: "muted" }, `created ${new Date(sweep.createdAt).toLocaleString()}`),
          sweep.bestModelId ? el("div", {}, "best model ", el("code", {}, sweep.bestModelId)) : "",
          sweep.error ? el("div", { class: "status-failed" }, sweep.error) : ""),
        trialsChart(sweep.trials)),
      el("table", { class: "leaderboard" },
        el("thead", {}, el("tr", {}, el("th", {}, "Rank"), el("th", {}, "Trial"), el("th", {}, "Settings"),
          el("th", {}, `${metric.toUpperCase()} (mean ± spread)`), el("th", {}, "Model"))),
        el("tbody", {}, ...rows)));
  }));
}

async function refresh() {
  const results = await Promise.allSettled([getJson("api/v1/models/active"), getJson("api/v1/models"), getJson("api/v1/training-jobs?limit=20"),
    getJson("api/v1/sweeps?limit=5")]);
  const [active, models, jobs, sweeps] = results;
  const failed = results.filter(r => r.status === "rejected").map(r => r.reason.message);
  if (active.status === "fulfilled") renderActive(active.value);
  else document.getElementById("active").replaceChildren(el("h2", {}, "Active model"), el("p", { class: "muted" }, active.reason.message));
  if (models.status === "fulfilled") renderModels(models.value);
  if (jobs.status === "fulfilled") renderJobs(jobs.value);
  if (sweeps.status === "fulfilled") await renderSweeps(sweeps.value).catch(e => failed.push(e.message));
  document.getElementById("updated").textContent = `Updated ${new Date().toLocaleTimeString()}` + (failed.length ? ` · ${failed.join("; ")}` : "");
}

refresh();
setInterval(refresh, REFRESH_MS);
