// The map page: offline basemap, hazard areas coloured by land-release state or planned release date, assets by
// planned restoration date, a record panel on click, and the draw tool for a cleared or reduced polygon.
// Geometry from the server may be generalised (viewers get a ~100 m footprint): nothing here measures it; areas
// always come from the record's own figures.
import * as maplibregl from "../vendor/maplibre-gl.mjs";
import { allFeatures, getJSON, postJSON } from "./api.js";
import { formatDate, formatNumber, t, translatePage } from "./i18n.js";
import { DrawTool } from "./draw.js";
import { describeError, escapeHtml, markData, setupPage, showStatus } from "./page.js";

export const STATE_COLOURS = {
  open: "#d7301f",
  in_progress: "#fd8d3c",
  processed: "#f2d600",
  released: "#1a9850",
};
const NO_DATE = "#9e9e9e";
const DATE_RAMP = ["#2166ac", "#b2abd2", "#b35806"]; // earliest, middle, latest
const EMPTY = { type: "FeatureCollection", features: [] };
const OBLAST_KEYS = { "RU-KRS": "oblast.RU-KRS", "UA-59": "oblast.UA-59", "RU-BEL": "oblast.RU-BEL" };

const state = { mode: "state", hazards: EMPTY, assets: EMPTY, range: null, selected: null, labels: [] };
let map;
let draw;
let resolveReady;
const ready = new Promise((resolve) => { resolveReady = resolve; });

function dayNumber(iso) {
  return iso ? Math.floor(Date.parse(`${iso.slice(0, 10)}T00:00:00Z`) / 86400000) : -1;
}

// MapLibre expressions read numbers, not ISO dates: each feature gets _day (days since 1970, -1 when unplanned).
function withDays(collection, property) {
  for (const f of collection.features) f.properties._day = dayNumber(f.properties[property]);
  return collection;
}

function dateRange() {
  const days = [...state.hazards.features, ...state.assets.features].map((f) => f.properties._day).filter((d) => d >= 0);
  if (!days.length) return null;
  const lo = Math.min(...days);
  const hi = Math.max(...days);
  return [lo, hi > lo ? hi : lo + 1];
}

function dateColour() {
  const [lo, hi] = state.range ?? [0, 1];
  return ["case", ["<", ["get", "_day"], 0], NO_DATE,
    ["interpolate", ["linear"], ["get", "_day"], lo, DATE_RAMP[0], (lo + hi) / 2, DATE_RAMP[1], hi, DATE_RAMP[2]]];
}

function hazardColour() {
  if (state.mode === "date") return dateColour();
  return ["match", ["get", "release_phase"], ...Object.entries(STATE_COLOURS).flat(), NO_DATE];
}

function basemapStyle() {
  return {
    version: 8,
    sources: {
      oblasts: { type: "geojson", data: "basemap/oblasts.geojson", attribution: "Natural Earth" },
      border: { type: "geojson", data: "basemap/border.geojson", attribution: "Natural Earth" },
      towns: { type: "geojson", data: "basemap/towns.geojson", attribution: "GeoNames CC BY 4.0" },
      hazards: { type: "geojson", data: EMPTY, promoteId: "id" },
      assets: { type: "geojson", data: EMPTY, promoteId: "id" },
    },
    layers: [
      { id: "background", type: "background", paint: { "background-color": "#dfe6e9" } },
      { id: "oblast-fill", type: "fill", source: "oblasts",
        paint: { "fill-color": ["match", ["get", "iso_3166_2"], "RU-KRS", "#f6f4ee", "#ebe8df"] } },
      { id: "oblast-line", type: "line", source: "oblasts", paint: { "line-color": "#8c8c8c", "line-width": 1 } },
      { id: "border-line", type: "line", source: "border",
        paint: { "line-color": "#5e3c99", "line-width": 2.5, "line-dasharray": [3, 2] } },
      { id: "town-dot", type: "circle", source: "towns",
        paint: { "circle-radius": ["interpolate", ["linear"], ["get", "population"], 500, 2.5, 400000, 6],
          "circle-color": "#404040", "circle-stroke-color": "#ffffff", "circle-stroke-width": 1 } },
      { id: "hazard-fill", type: "fill", source: "hazards", paint: { "fill-color": hazardColour(), "fill-opacity": 1 } },
      { id: "hazard-line", type: "line", source: "hazards",
        paint: { "line-color": ["case", ["boolean", ["feature-state", "selected"], false], "#000000", "#4d4d4d"],
          "line-width": ["case", ["boolean", ["feature-state", "selected"], false], 3, 1] } },
      { id: "asset-line", type: "line", source: "assets", filter: ["==", ["geometry-type"], "LineString"],
        paint: { "line-color": dateColour(), "line-width": 4 } },
      { id: "asset-fill", type: "fill", source: "assets", filter: ["==", ["geometry-type"], "Polygon"],
        paint: { "fill-color": dateColour(), "fill-outline-color": "#202020" } },
      { id: "asset-point", type: "circle", source: "assets", filter: ["==", ["geometry-type"], "Point"],
        paint: { "circle-radius": 7, "circle-color": dateColour(), "circle-stroke-color": "#202020", "circle-stroke-width": 1.5 } },
    ],
  };
}

// Labels as HTML markers: MapLibre's symbol labels need glyph PBFs, and the browser's own fonts already render Cyrillic.
async function addLabels() {
  for (const label of state.labels) label.remove();
  state.labels = [];
  const [oblasts, towns] = await Promise.all([getJSON("basemap/oblasts.geojson"), getJSON("basemap/towns.geojson")]);
  for (const f of oblasts.features) {
    const el = document.createElement("div");
    el.className = "label oblast-label";
    el.dataset.key = OBLAST_KEYS[f.properties.iso_3166_2] ?? "";
    el.textContent = el.dataset.key ? t(el.dataset.key) : f.properties.name;
    state.labels.push(new maplibregl.Marker({ element: el }).setLngLat(labelPoint(f.geometry)).addTo(map));
  }
  for (const f of towns.features) {
    const el = document.createElement("div");
    el.className = "label town-label";
    el.textContent = f.properties.asciiname;
    state.labels.push(new maplibregl.Marker({ element: el, anchor: "left", offset: [6, 0] })
      .setLngLat(f.geometry.coordinates).addTo(map));
  }
}

// The centre of the largest ring's bounding box: good enough to place an oblast's name.
function labelPoint(geometry) {
  const polygons = geometry.type === "Polygon" ? [geometry.coordinates] : geometry.coordinates;
  let best = null;
  for (const polygon of polygons) {
    const xs = polygon[0].map((c) => c[0]);
    const ys = polygon[0].map((c) => c[1]);
    const box = [Math.min(...xs), Math.min(...ys), Math.max(...xs), Math.max(...ys)];
    const size = (box[2] - box[0]) * (box[3] - box[1]);
    if (!best || size > best.size) best = { size, point: [(box[0] + box[2]) / 2, (box[1] + box[3]) / 2] };
  }
  return best.point;
}

function bounds(collection) {
  const b = new maplibregl.LngLatBounds();
  const visit = (c) => (typeof c[0] === "number" ? b.extend(c) : c.forEach(visit));
  for (const f of collection.features) if (f.geometry) visit(f.geometry.coordinates);
  return b.isEmpty() ? null : b;
}

async function loadData() {
  const [hazards, assets] = await Promise.all([allFeatures("hazard_areas"), allFeatures("assets")]);
  state.hazards = withDays(hazards, "planned_release_date");
  state.assets = withDays(assets, "planned_restoration_date");
  state.range = dateRange();
  map.getSource("hazards").setData(state.hazards);
  map.getSource("assets").setData(state.assets);
  for (const layer of ["asset-line", "asset-fill", "asset-point"]) {
    map.setPaintProperty(layer, layer === "asset-point" ? "circle-color" : layer === "asset-line" ? "line-color" : "fill-color", dateColour());
  }
  map.setPaintProperty("hazard-fill", "fill-color", hazardColour());
  markData([...hazards.features, ...assets.features]);
  renderLegend();
  showStatus(t("map.loaded", { count: hazards.features.length }));
  return bounds({ features: [...hazards.features, ...assets.features] });
}

function setMode(mode) {
  state.mode = mode;
  map.setPaintProperty("hazard-fill", "fill-color", hazardColour());
  for (const input of document.querySelectorAll("input[name=colour]")) input.checked = input.value === mode;
  renderLegend();
}

// The colour goes in a data attribute and is set through the DOM after the list is written (paintSwatches): the
// service's Content-Security-Policy allows no inline style attribute.
function swatch(colour, label) {
  return `<li><span class="swatch" data-colour="${escapeHtml(colour)}"></span>${escapeHtml(label)}</li>`;
}

function paintSwatches(list) {
  for (const el of list.querySelectorAll(".swatch[data-colour]")) el.style.backgroundColor = el.dataset.colour;
}

function rampSwatches() {
  if (!state.range) return swatch(NO_DATE, t("map.no_date"));
  const toIso = (day) => new Date(day * 86400000).toISOString().slice(0, 10);
  const [lo, hi] = state.range;
  return swatch(DATE_RAMP[0], `${formatDate(toIso(lo))} (${t("map.earlier")})`)
    + swatch(DATE_RAMP[1], formatDate(toIso(Math.round((lo + hi) / 2))))
    + swatch(DATE_RAMP[2], `${formatDate(toIso(hi))} (${t("map.later")})`)
    + swatch(NO_DATE, t("map.no_date"));
}

function renderLegend() {
  const hazards = state.mode === "state"
    ? Object.entries(STATE_COLOURS).map(([phase, colour]) => swatch(colour, t(`state.${phase}`))).join("")
    : rampSwatches();
  const legend = document.getElementById("legend-items");
  legend.innerHTML =
    `<h3>${escapeHtml(t("map.hazards"))}</h3><ul>${hazards}</ul><h3>${escapeHtml(t("map.assets"))}</h3><ul>${rampSwatches()}</ul>`;
  paintSwatches(legend);
}

function dl(rows) {
  return `<dl>${rows.map(([k, v]) => `<dt>${escapeHtml(k)}</dt><dd>${escapeHtml(v)}</dd>`).join("")}</dl>`;
}

function m2(value) {
  return value == null ? "—" : t("unit.m2", { value: formatNumber(value) });
}

async function selectHazard(id) {
  if (state.selected) map.setFeatureState({ source: "hazards", id: state.selected }, { selected: false });
  state.selected = id;
  map.setFeatureState({ source: "hazards", id }, { selected: true });
  const record = await getJSON(`/api/hazards/${encodeURIComponent(id)}`);
  state.record = record;
  markData([record]);
  const b = record.balance || {};
  const plan = record.plan;
  const history = (record.history || []).map((e) => `<tr><td>${e.seq}</td><td class="date">${escapeHtml(formatDate(e.date))}</td>
    <td>${escapeHtml(t(`event.${e.kind}`))}</td><td>${escapeHtml(e.actor)}</td><td>${escapeHtml(e.reason)}</td><td class="num">${escapeHtml(m2(e.area_m2))}</td></tr>`).join("");
  document.getElementById("record").innerHTML = `<h2>${escapeHtml(t("hazard.title"))}: ${escapeHtml(record.name)}</h2>
    ${dl([[t("hazard.class"), record.hazard_class], [t("hazard.status"), t(`state.${record.release_phase}`)],
      [t("hazard.area"), m2(record.area_m2)]])}
    <h3>${escapeHtml(t("hazard.balance"))}</h3>
    ${dl(["original", "cancelled", "reduced", "cleared", "remaining"].map((k) => [t(`hazard.${k}`), m2(b[`${k}_m2`])]))}
    <h3>${escapeHtml(t("hazard.plan"))}</h3>
    ${plan ? dl([[t("hazard.survey_start"), formatDate(plan.survey_start)], [t("hazard.clearance_start"), formatDate(plan.clearance_start)],
      [t("hazard.release_date"), formatDate(plan.release_date)]]) : `<p>${escapeHtml(t("hazard.not_planned"))}</p>`}
    <h3>${escapeHtml(t("hazard.history"))} <small>(${escapeHtml(t("hazard.events", { count: (record.history || []).length }))})</small></h3>
    <table class="history"><thead><tr><th>${t("history.seq")}</th><th>${t("history.date")}</th><th>${t("history.kind")}</th>
    <th>${t("history.actor")}</th><th>${t("history.reason")}</th><th>${t("history.area")}</th></tr></thead><tbody>${history}</tbody></table>`;
  document.getElementById("draw-start").disabled = false;
  return record;
}

async function selectAsset(id) {
  const record = await getJSON(`/api/assets/${encodeURIComponent(id)}`);
  markData([record]);
  const plan = record.plan;
  document.getElementById("record").innerHTML = `<h2>${escapeHtml(t("asset.title"))}: ${escapeHtml(record.name)}</h2>
    ${dl([[t("asset.type"), record.asset_type], [t("asset.damage"), record.damage]])}
    <h3>${escapeHtml(t("hazard.plan"))}</h3>
    ${plan ? dl([[t("asset.restoration_start"), formatDate(plan.restoration_start)], [t("asset.restoration_end"), formatDate(plan.restoration_end)]])
      : `<p>${escapeHtml(t("hazard.not_planned"))}</p>`}`;
  return record;
}

function showOutcomeForm(polygon) {
  const form = document.getElementById("outcome-form");
  if (!polygon) {
    showStatus(t("draw.too_few"), "error");
    draw.clear();
    return;
  }
  form.hidden = false;
  form.elements.date.value = new Date().toISOString().slice(0, 10);
  form.dataset.geometry = JSON.stringify(polygon);
}

async function submitOutcome(event) {
  event.preventDefault();
  const form = event.target;
  const hazard = state.record;
  const body = { kind: form.elements.kind.value, date: form.elements.date.value, reason: form.elements.reason.value,
    geometry: JSON.parse(form.dataset.geometry) };
  if (body.kind === "cleared" && form.elements.depth.value) body.depth_cm = Number(form.elements.depth.value);
  try {
    const result = await postJSON(`/api/hazards/${encodeURIComponent(hazard.id)}/outcomes`, body);
    form.hidden = true;
    draw.clear();
    // The server's note says what was recorded, what clipping removed and what still holds release back.
    let message = t("draw.saved", { area: m2(result.outcome.area_m2), kind: t(`draw.${result.outcome.kind}`), name: hazard.name });
    message += ` ${result.outcome.clipped ? t("draw.clipped", { note: result.outcome.note }) : result.outcome.note}`;
    window.sapperMap.lastOutcome = result;
    await loadData();
    await selectHazard(hazard.id);
    showStatus(message, "ok");
  } catch (error) {
    showStatus(t("error.save", { message: error.message }), "error");
  }
}

function wireControls() {
  for (const input of document.querySelectorAll("input[name=colour]")) {
    input.addEventListener("change", () => setMode(input.value));
  }
  document.getElementById("draw-start").addEventListener("click", () => {
    if (!state.record) return showStatus(t("draw.pick_hazard"), "error");
    showStatus(t("draw.help"));
    draw.start();
  });
  const form = document.getElementById("outcome-form");
  form.addEventListener("submit", submitOutcome);
  const depth = form.querySelector("label.depth");
  const showDepth = () => {
    depth.hidden = form.elements.kind.value !== "cleared";
    form.elements.depth.required = !depth.hidden;
  };
  form.elements.kind.addEventListener("change", showDepth);
  showDepth();
  form.elements.cancel.addEventListener("click", () => {
    form.hidden = true;
    draw.clear();
  });
  map.on("click", "hazard-fill", (e) => {
    if (!draw.active) selectHazard(e.features[0].properties.id).catch((err) => showStatus(describeError(err, e.features[0].properties.id), "error"));
  });
  for (const layer of ["asset-point", "asset-line", "asset-fill"]) {
    map.on("click", layer, (e) => {
      if (!draw.active) selectAsset(e.features[0].properties.id).catch((err) => showStatus(describeError(err, e.features[0].properties.id), "error"));
    });
  }
}

function renderedFeatureCount(group) {
  const layers = { hazards: ["hazard-fill"], assets: ["asset-point", "asset-line", "asset-fill"],
    towns: ["town-dot"], oblasts: ["oblast-fill"] }[group];
  const ids = new Set(map.queryRenderedFeatures({ layers }).map((f) => f.properties.id ?? f.properties.geonameid ?? f.properties.iso_3166_2));
  return ids.size;
}

async function main() {
  await setupPage("index.html", () => {
    renderLegend();
    for (const el of document.querySelectorAll(".oblast-label")) if (el.dataset.key) el.textContent = t(el.dataset.key);
    if (state.selected) selectHazard(state.selected);
  });
  translatePage();
  map = new maplibregl.Map({
    container: "map",
    style: basemapStyle(),
    center: [35.4, 51.4],
    zoom: 7,
    attributionControl: false,
  });
  map.addControl(new maplibregl.NavigationControl({ showCompass: false }));
  map.addControl(new maplibregl.ScaleControl({ unit: "metric" }));
  map.addControl(new maplibregl.AttributionControl({ compact: false }));
  window.sapperMap = {
    map, ready, renderedFeatureCount, setMode, selectHazard, selectAsset,
    get mode() { return state.mode; },
    get draw() { return draw; },
    STATE_COLOURS,
  };
  await map.once("load");
  draw = new DrawTool(map, { onFinish: showOutcomeForm, onChange: (n) => { document.getElementById("vertex-count").textContent = n ? t("draw.vertices", { count: n }) : ""; } });
  wireControls();
  try {
    const [box] = await Promise.all([loadData(), addLabels()]);
    if (box) map.fitBounds(box, { padding: 80, maxZoom: 12, duration: 0 });
  } catch (error) {
    showStatus(describeError(error, t("map.hazards")), "error");
  }
  // Wait for a frame with everything drawn (the map may already be idle, so ask for a repaint to get an idle event).
  await new Promise((resolve) => {
    map.once("idle", resolve);
    map.triggerRepaint();
  });
  resolveReady(true);
}

main();
