// mlspace-sim console: polls /_mock/ui/state.json and redraws; moves the clock through the
// admin API. Plain DOM, text only (never innerHTML), so nothing a job is named can run here.
"use strict";

const BASE = "/_mock";
const POLL_MS = 1000;
const PALETTE = ["#2563eb", "#db2777", "#059669", "#d97706", "#7c3aed", "#0891b2",
  "#dc2626", "#65a30d", "#9333ea", "#0d9488", "#ea580c", "#4f46e5"];

let view = null;        // the last snapshot
let seenAt = 0;         // wall ms when it arrived
let logJob = null;      // the job whose log is open
let timer = null;

// ---- small helpers ------------------------------------------------------------------------
function el(tag, attrs, ...children) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(attrs || {})) {
    if (key === "class") node.className = value;
    else if (key === "style") Object.assign(node.style, value);
    else if (key.startsWith("on")) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children.flat()) {
    if (child !== null && child !== undefined) node.append(child);
  }
  return node;
}

const $ = (id) => document.getElementById(id);
const pad = (n) => String(n).padStart(2, "0");

function isoTime(epoch) {
  const d = new Date(epoch * 1000);
  return `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ` +
    `${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())} UTC`;
}

function duration(seconds) {
  const s = Math.floor(seconds);
  if (s < 60) return `${s}s`;
  if (s < 3600) return `${Math.floor(s / 60)}m ${pad(s % 60)}s`;
  if (s < 86400) return `${Math.floor(s / 3600)}h ${pad(Math.floor(s / 60) % 60)}m`;
  return `${Math.floor(s / 86400)}d ${pad(Math.floor(s / 3600) % 24)}h`;
}

const money = (x) => Number(x).toLocaleString("en-US", { minimumFractionDigits: 2, maximumFractionDigits: 2 });
const shortId = (name) => name.length > 22 ? name.slice(0, 19) + "…" : name;

function colour(ws) {
  const i = view.workspaces.indexOf(ws);
  return i < 0 ? "#9ca3af" : PALETTE[i % PALETTE.length];
}

function wsLabel(ws) {
  const name = view.workspace_names[ws];
  return name && name !== ws ? `${name} (${ws.slice(0, 8)})` : ws;
}

// Virtual seconds since the snapshot, as the clock runs (0 in manual mode).
function drift() {
  const c = view.clock;
  return c.mode === "realtime" ? (Date.now() - seenAt) / 1000 * c.speed : 0;
}

// ---- data ---------------------------------------------------------------------------------
async function refresh() {
  clearTimeout(timer);
  const query = new URLSearchParams();
  if ($("filter-workspace").value) query.set("workspace", $("filter-workspace").value);
  if ($("filter-region").value) query.set("region", $("filter-region").value);
  try {
    const res = await fetch(`${BASE}/ui/state.json?${query}`, { cache: "no-store" });
    if (!res.ok) throw new Error(`HTTP ${res.status}`);
    view = await res.json();
    seenAt = Date.now();
    render();
    $("live").className = "live ok";
    $("live").textContent = `live · updated ${new Date().toLocaleTimeString()}`;
    if (logJob) await showLog(logJob);
  } catch (err) {
    $("live").className = "live err";
    $("live").textContent = `offline: ${err.message}`;
  }
  timer = setTimeout(refresh, POLL_MS);
}

async function post(path, body) {
  const res = await fetch(`${BASE}${path}`, {
    method: "POST",
    headers: { "content-type": "application/json", "x-mlspace-console": "1" },
    body: JSON.stringify(body),
  });
  if (!res.ok) alert(`${path}: HTTP ${res.status} ${await res.text()}`);
  await refresh();
}

// ---- rendering ----------------------------------------------------------------------------
function render() {
  renderClock();
  renderPools();
  renderQueue();
  renderMoney();
  renderWork();
  $("reports").hidden = !view.reports;
}

function renderClock() {
  const c = view.clock;
  tickClock();
  $("clock-mode").textContent = c.mode === "manual"
    ? `manual clock · seed ${c.seed}${c.idle ? " · idle" : ""}`
    : `realtime ×${c.speed} · seed ${c.seed}`;
  $("clock-controls").hidden = c.mode !== "manual";
  $("faults").textContent = `faults: ${describeFaults(view.faults)}`;
}

function tickClock() {
  const now = view.clock.now_epoch + drift();
  $("clock-now").textContent = isoTime(now);
  $("clock-elapsed").textContent = `+${duration(now - view.clock.start_epoch)}`;
}

function describeFaults(f) {
  const on = [];
  if (f.node_failures.rate_per_node_hour > 0) {
    on.push(`node failures ${f.node_failures.rate_per_node_hour}/node-h (repair ${duration(f.node_failures.repair_s)})`);
  }
  if (f.preemption.enabled) on.push(f.preemption.notebooks ? "preemption (servers too)" : "preemption");
  if (f.slow_pulls.probability > 0) on.push(`slow pulls p=${f.slow_pulls.probability} ×${f.slow_pulls.factor}`);
  if (f.down_nodes.length) on.push(`down: ${f.down_nodes.join(", ")}`);
  if (f.api_rules.length) on.push(`API rules: ${f.api_rules.map((r) => r.name).join(", ")}`);
  return on.length ? on.join(" · ") : "none";
}

function renderPools() {
  $("legend").replaceChildren(
    ...view.workspaces.map((ws) => el("span", {}, el("span", { class: "swatch", style: { background: colour(ws) } }), wsLabel(ws))),
    el("span", {}, el("span", { class: "swatch", style: { background: "var(--free)" } }), "free"),
    el("span", {}, el("span", { class: "swatch", style: { background: "var(--down)" } }), "down"),
  );
  $("pool-list").replaceChildren(...view.pools.map(renderPool));
}

function renderPool(pool) {
  const unit = pool.unit === "gpu" ? "GPUs" : "CPUs";
  const t = pool.unit === "gpu" ? pool.gpus : pool.cpus;
  const serves = `serves ${pool.serves.join(", ")}` + (pool.regions.length ? ` in ${pool.regions.join(", ")}` : "");
  return el("div", { class: "pool", "data-pool": pool.name },
    el("div", { class: "pool-head" },
      el("h3", {}, pool.name),
      el("span", { class: "pool-totals" },
        `${t.used} of ${t.total} ${unit} used · ${t.total - t.used} free · ${pool.nodes.length} node${pool.nodes.length === 1 ? "" : "s"}` +
        (pool.down_nodes ? ` · ${pool.down_nodes} down` : "")),
      el("span", { class: "muted" }, serves)),
    el("div", { class: "nodes" }, pool.nodes.map((node) => renderNode(pool, node))));
}

function renderNode(pool, node) {
  const holders = node.held.flatMap((h) => h.holders.map((x) => `${x.kind} ${x.name} · ${wsLabel(h.workspace)} · ${x.workers} worker(s)`));
  const used = node.held.reduce((sum, h) => sum + h.units, 0);
  const title = [node.name, `GPU model: ${node.gpu_models.join(", ") || "any"}`,
    `${used} of ${node.capacity} ${pool.unit === "gpu" ? "GPUs" : "CPUs"} held${node.down ? " · DOWN" : ""}`,
    ...holders].join("\n");
  const body = pool.unit === "gpu" ? gpuCells(node) : cpuBar(node);
  return el("div", { class: `node${node.down ? " down" : ""}`, title, "data-node": node.name },
    el("div", { class: "node-name" }, node.name.split(".")[0]), body);
}

function gpuCells(node) {
  const cells = [];
  for (const h of node.held) {
    for (let i = 0; i < h.units; i++) {
      cells.push(el("div", { class: "cell", style: { background: colour(h.workspace) }, "data-workspace": h.workspace }));
    }
  }
  while (cells.length < node.capacity) cells.push(el("div", { class: `cell${node.down ? " down" : ""}` }));
  return el("div", { class: "cells" }, cells);
}

function cpuBar(node) {
  return el("div", { class: `bar${node.down ? " down" : ""}` }, node.held.map((h) =>
    el("span", { style: { width: `${100 * h.units / node.capacity}%`, background: colour(h.workspace) }, "data-workspace": h.workspace })));
}

function renderQueue() {
  const groups = view.queue.filter((g) => g.waiting);
  if (!groups.length) {
    $("queue-list").replaceChildren(el("p", { class: "muted" }, "Nothing waits."));
    return;
  }
  $("queue-list").replaceChildren(...groups.map((g) => el("div", { "data-queue-pool": g.pool },
    el("h3", {}, `pool ${g.pool} · ${g.waiting} waiting · ${g.backfill ? "backfill" : "strict order"}` +
      (g.waiting > g.items.length ? ` · first ${g.items.length} shown` : "")),
    el("table", {},
      el("tr", {}, ["#", "item", "workspace / queue", "prio", "GPUs", "waited", "why"].map((h) => el("th", {}, h))),
      g.items.map((it) => el("tr", { "data-waiting": it.id },
        el("td", { class: "num" }, String(it.order)),
        el("td", { class: "mono nowrap", title: it.name }, `${it.kind} ${shortId(it.name)}`),
        el("td", {}, el("span", { class: "swatch", style: { background: colour(it.workspace) } }), `${wsLabel(it.workspace)} / ${it.queue_name}`),
        el("td", {}, it.priority),
        el("td", { class: "num" }, `${it.workers}×${it.gpus / it.workers}`),
        el("td", { class: "num" }, duration(it.waited_s + drift())),
        el("td", { class: `reason-${it.reason.code}` }, it.reason.text,
          it.reason.behind ? el("span", { class: "mono", title: it.reason.behind }, ` ${shortId(it.reason.behind)}`) : null)))))));
}

function renderMoney() {
  const m = view.money;
  tickMoney();
  $("money-currency").textContent = m.currency;
  $("money-burn").textContent = `${m.running_lines} meter(s) running · ${money(m.burn_per_hour)} ${m.currency}/h`;
  const kinds = [...new Set(m.workspaces.flatMap((w) => Object.keys(w.by_kind)))].sort();
  $("money-table").replaceChildren(
    el("tr", {}, el("th", {}, "workspace"), kinds.map((k) => el("th", { class: "num" }, k)),
      el("th", { class: "num" }, "total"), el("th", { class: "num" }, "per hour now")),
    ...m.workspaces.map((w) => el("tr", { "data-bill": w.workspace },
      el("td", {}, el("span", { class: "swatch", style: { background: colour(w.workspace) } }), wsLabel(w.workspace)),
      kinds.map((k) => el("td", { class: "num" }, money(w.by_kind[k] || 0))),
      el("td", { class: "num" }, money(w.total)),
      el("td", { class: "num" }, money(w.burn_per_hour)))));
  const gpu = Object.entries(m.prices.gpu_hour).map(([k, v]) => `${k} ${v}`).join(", ");
  const cpu = Object.entries(m.prices.cpu_instance_hour).map(([k, v]) => `${k} ${v}`).join(", ");
  $("money-tariff").textContent = `tariff ${m.tariff} · per GPU-hour: ${gpu} · per CPU instance-hour: ${cpu}` +
    (m.illustrative_prices ? " · illustrative prices" : "");
}

// The running total moves with virtual time between snapshots (realtime clock).
function tickMoney() {
  const m = view.money;
  $("money-total").textContent = money(Number(m.total) + Number(m.burn_per_hour) * drift() / 3600);
}

function fillSelect(select, values, label) {
  const current = select.value;
  const wanted = ["", ...values];
  const have = [...select.options].map((o) => o.value);
  if (wanted.join("\n") === have.join("\n")) return;
  select.replaceChildren(...wanted.map((v) => el("option", { value: v }, v ? label(v) : "all")));
  select.value = wanted.includes(current) ? current : "";
}

function renderWork() {
  fillSelect($("filter-workspace"), view.workspaces, wsLabel);
  fillSelect($("filter-region"), view.regions, (r) => r);
  const items = view.work.items;
  $("work-count").textContent = `${view.work.total} item(s)` + (view.work.total > items.length ? `, newest ${items.length} shown` : "");
  const now = view.now_epoch;
  const from = Math.min(now - 60, ...items.map((it) => it.created));
  const span = Math.max(1, now - from);
  $("work-table").replaceChildren(
    el("tr", {}, ["kind", "name", "workspace", "region · type", "status", "nodes", "cost", `timeline ${isoTime(from).slice(11, 19)} → now`]
      .map((h) => el("th", {}, h))),
    ...items.map((it) => el("tr", { "data-item": it.id },
      el("td", {}, it.kind),
      el("td", { class: "mono", title: it.name }, it.has_log
        ? el("a", { class: "log-link", onclick: () => showLog(it.id) }, it.name)
        : it.name),
      el("td", {}, el("span", { class: "swatch", style: { background: colour(it.workspace) } }), wsLabel(it.workspace)),
      el("td", {}, `${it.region} · ${it.workers}×${it.instance_type}`),
      el("td", { class: `status ${it.status}` }, it.status),
      el("td", { class: "mono" }, it.nodes.join(", ")),
      el("td", { class: "num" }, money(it.cost)),
      el("td", {}, timeline(it, from, span)))));
}

function timeline(it, from, span) {
  const pct = (t) => `${(100 * (t - from) / span).toFixed(3)}%`;
  const bars = it.phases.map((p) => el("span", {
    class: `ph-${p.phase}`,
    title: `${p.phase}: ${isoTime(p.start).slice(11)} → ${isoTime(p.end).slice(11)} (${duration(p.end - p.start)})`,
    style: { left: pct(p.start), width: `calc(${pct(p.end)} - ${pct(p.start)})` },
  }));
  if (it.ended) bars.push(el("span", { class: "end", title: `ended ${it.status} at ${isoTime(it.ended)}`, style: { left: pct(it.ended) } }));
  return el("div", { class: "timeline" }, bars);
}

async function showLog(name) {
  logJob = name;
  const res = await fetch(`${BASE}/ui/jobs/${encodeURIComponent(name)}/log?tail=500`, { cache: "no-store" });
  const data = res.ok ? await res.json() : { status: `HTTP ${res.status}`, lines: [] };
  $("log-title").textContent = `${name} · ${data.status}`;
  const pre = $("log-text");
  const atEnd = pre.scrollTop + pre.clientHeight >= pre.scrollHeight - 4;
  pre.textContent = data.lines.join("\n") || "(no lines yet)";
  if (atEnd) pre.scrollTop = pre.scrollHeight;
  $("log").hidden = false;
}

async function loadReports() {
  const res = await fetch(`${BASE}/ui/reports`, { cache: "no-store" });
  if (!res.ok) return;
  const data = await res.json();
  $("report-list").replaceChildren(...(data.reports.length ? data.reports.map((r) => el("li", {},
    el("a", { href: `${BASE}/ui/reports/${r.path.split("/").map(encodeURIComponent).join("/")}`, target: "_blank", rel: "noopener" }, r.name),
    el("span", { class: "muted" }, ` · ${r.path} · written ${new Date(r.modified_epoch * 1000).toLocaleString()}`)))
    : [el("li", { class: "muted" }, "No report.html here yet (mlspace-sim whatif --out DIR)")]));
}

// ---- wiring -------------------------------------------------------------------------------
document.addEventListener("DOMContentLoaded", async () => {
  for (const button of document.querySelectorAll("[data-advance]")) {
    button.addEventListener("click", () => post("/clock/advance", { seconds: Number(button.dataset.advance) }));
  }
  $("run-idle").addEventListener("click", () => post("/clock/run-until-idle", {}));
  $("filter-workspace").addEventListener("change", refresh);
  $("filter-region").addEventListener("change", refresh);
  $("log-close").addEventListener("click", () => { logJob = null; $("log").hidden = true; });
  setInterval(() => { if (view && view.clock.mode === "realtime") { tickClock(); tickMoney(); } }, 250);
  await refresh();
  if (view && view.reports) await loadReports();
});
