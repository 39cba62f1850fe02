// The plan page: a Gantt of teams and brigades (lanes grouped by organisation and role, every lane labelled) and a
// burn-down of released km² and restored assets over time, both drawn as SVG from GET /api/plan/latest/{gantt,burndown}.
import { getJSON } from "./api.js";
import { formatDate, formatNumber, t } from "./i18n.js";
import { describeError, escapeHtml, markData, setupPage, showStatus } from "./page.js";

export const TASK_COLOURS = { survey: "#80b1d3", clearance: "#fb8072", restoration: "#8dd3c7" };
const LABEL_W = 230;
const ROW_H = 22;
const AXIS_H = 46;
const DAY = 86400000;
const data = { gantt: null, burndown: null };

const day = (iso) => Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / DAY;
const iso = (d) => new Date(d * DAY).toISOString().slice(0, 10);

function monthTicks(lo, hi) {
  const ticks = [];
  const first = new Date(lo * DAY);
  let m = new Date(Date.UTC(first.getUTCFullYear(), first.getUTCMonth() + 1, 1));
  while (m.getTime() / DAY <= hi) {
    ticks.push(m.getTime() / DAY);
    m = new Date(Date.UTC(m.getUTCFullYear(), m.getUTCMonth() + 1, 1));
  }
  return ticks;
}

function renderGantt() {
  const g = data.gantt;
  const el = document.getElementById("gantt");
  const lanes = [...g.lanes].sort((a, b) => a.organisation.localeCompare(b.organisation) || a.role.localeCompare(b.role) || a.label.localeCompare(b.label));
  const lo = day(g.start);
  const hi = Math.max(day(g.end), lo + 1);
  const width = Math.max(900, el.clientWidth - 2);
  const scale = (width - LABEL_W - 10) / (hi - lo);
  const x = (d) => LABEL_W + (d - lo) * scale;
  const rows = [];
  let group = null;
  for (const lane of lanes) {
    const key = `${lane.organisation}|${lane.role}`;
    if (key !== group) {
      rows.push({ header: `${lane.organisation} · ${t(`role.${lane.role}`)}` });
      group = key;
    }
    rows.push({ lane });
  }
  const height = AXIS_H + rows.length * ROW_H + 4;
  const parts = [];
  for (const tick of monthTicks(lo, hi)) {
    parts.push(`<line class="grid" x1="${x(tick)}" x2="${x(tick)}" y1="${AXIS_H - 6}" y2="${height}"/>`);
    if (x(tick) < width - 70) parts.push(`<text class="axis" x="${x(tick) + 3}" y="${AXIS_H - 9}">${escapeHtml(formatDate(iso(tick)))}</text>`);
  }
  rows.forEach((row, i) => {
    const y = AXIS_H + i * ROW_H;
    if (row.header) {
      parts.push(`<rect x="0" y="${y}" width="${width}" height="${ROW_H}" fill="#eceff1"/>`,
        `<text class="group" x="6" y="${y + 15}">${escapeHtml(row.header)}</text>`);
      return;
    }
    parts.push(`<text class="lane-label" x="16" y="${y + 15}" data-lane="${escapeHtml(row.lane.id)}">${escapeHtml(row.lane.label)}</text>`);
    for (const task of row.lane.tasks) {
      const x0 = x(day(task.start));
      const w = Math.max(2, x(day(task.end)) - x0);
      parts.push(`<rect class="bar" data-task="${escapeHtml(task.id)}" x="${x0}" y="${y + 3}" width="${w}" height="${ROW_H - 6}" rx="2"
        fill="${TASK_COLOURS[task.kind] ?? "#bbbbbb"}" stroke="#4d4d4d" stroke-width="0.5"><title>${escapeHtml(task.label)}: ${escapeHtml(t(`task.${task.kind}`))}, ${escapeHtml(formatDate(task.start))} – ${escapeHtml(formatDate(task.end))}</title></rect>`);
    }
  });
  const legend = Object.entries(TASK_COLOURS).map(([kind, colour], i) =>
    `<rect x="${LABEL_W + i * 130}" y="4" width="12" height="10" fill="${colour}" stroke="#4d4d4d" stroke-width="0.5"/><text x="${LABEL_W + i * 130 + 16}" y="13">${escapeHtml(t(`task.${kind}`))}</text>`).join("");
  el.innerHTML = `<svg width="${width}" height="${height}" role="img">${legend}${parts.join("")}</svg>`;
  const taskCount = g.lanes.reduce((n, lane) => n + lane.tasks.length, 0);
  document.getElementById("plan-meta").textContent = `${t("plan.created", { id: g.plan_id, date: formatDate(g.created) })} — ${t("plan.lanes", { count: g.lanes.length })}, ${t("plan.tasks", { count: taskCount })}`;
}

function renderBurndown() {
  const b = data.burndown;
  const el = document.getElementById("burndown");
  const width = Math.max(900, el.clientWidth - 2);
  const height = 300;
  const pad = { l: 60, r: 60, t: 30, b: 34 };
  const points = b.points;
  const lo = day(points[0].date);
  const hi = Math.max(day(points[points.length - 1].date), lo + 1);
  const x = (d) => pad.l + ((d - lo) / (hi - lo)) * (width - pad.l - pad.r);
  const maxKm2 = Math.max(b.total_km2, ...points.map((p) => p.released_km2), 0.001);
  const maxAssets = Math.max(b.total_assets, ...points.map((p) => p.restored_assets), 1);
  const yKm2 = (v) => height - pad.b - (v / maxKm2) * (height - pad.t - pad.b);
  const yAssets = (v) => height - pad.b - (v / maxAssets) * (height - pad.t - pad.b);
  // Cumulative figures change on a date and hold until the next one: a step line (across, then up).
  const path = (y, key) => points.map((p, i) => (i ? `H${x(day(p.date)).toFixed(1)}V${y(p[key]).toFixed(1)}`
    : `M${x(day(p.date)).toFixed(1)},${y(p[key]).toFixed(1)}`)).join("");
  const parts = [`<line class="grid" x1="${pad.l}" x2="${width - pad.r}" y1="${height - pad.b}" y2="${height - pad.b}"/>`];
  for (const tick of monthTicks(lo, hi)) {
    parts.push(`<line class="grid" x1="${x(tick)}" x2="${x(tick)}" y1="${pad.t}" y2="${height - pad.b}"/>`,
      `<text class="axis" x="${x(tick)}" y="${height - pad.b + 16}" text-anchor="middle">${escapeHtml(formatDate(iso(tick)))}</text>`);
  }
  for (const f of [0, 0.5, 1]) {
    parts.push(`<text class="axis" x="${pad.l - 6}" y="${yKm2(maxKm2 * f) + 4}" text-anchor="end">${escapeHtml(formatNumber(maxKm2 * f, 2))}</text>`,
      `<text class="axis" x="${width - pad.r + 6}" y="${yAssets(maxAssets * f) + 4}">${escapeHtml(formatNumber(maxAssets * f, 0))}</text>`);
  }
  parts.push(`<path id="released-line" d="${path(yKm2, "released_km2")}" fill="none" stroke="#1a9850" stroke-width="2.5"/>`,
    `<path id="restored-line" d="${path(yAssets, "restored_assets")}" fill="none" stroke="#2166ac" stroke-width="2.5" stroke-dasharray="6 3"/>`,
    `<line x1="${pad.l}" x2="${pad.l + 24}" y1="14" y2="14" stroke="#1a9850" stroke-width="2.5"/><text x="${pad.l + 30}" y="18">${escapeHtml(t("plan.released_km2"))}</text>`,
    `<line x1="${pad.l + 260}" x2="${pad.l + 284}" y1="14" y2="14" stroke="#2166ac" stroke-width="2.5" stroke-dasharray="6 3"/><text x="${pad.l + 290}" y="18">${escapeHtml(t("plan.restored_assets"))}</text>`);
  el.innerHTML = `<svg width="${width}" height="${height}" role="img">${parts.join("")}</svg>`;
}

function render() {
  if (data.gantt) renderGantt();
  if (data.burndown && data.burndown.points.length) renderBurndown();
}

async function main() {
  await setupPage("plan.html", render);
  try {
    [data.gantt, data.burndown] = await Promise.all([getJSON("/api/plan/latest/gantt"), getJSON("/api/plan/latest/burndown")]);
    markData([data.gantt, data.burndown]);
    render();
  } catch (error) {
    showStatus(error.status === 404 ? t("plan.none") : describeError(error, t("plan.title")), "error");
  }
  window.sapperPlan = {
    laneCount: () => document.querySelectorAll("#gantt .lane-label").length,
    barCount: () => document.querySelectorAll("#gantt .bar").length,
    laneLabels: () => [...document.querySelectorAll("#gantt .lane-label")].map((e) => e.textContent),
    burndownDrawn: () => Boolean(document.getElementById("released-line")),
  };
}

main();
