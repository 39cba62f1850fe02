// Copy the vendored browser libraries and the offline basemap into src/sapper/web/static (run by `make web`).
// Node's standard library only; nothing is fetched: `npm ci` has already filled node_modules from package-lock.json.
import { copyFileSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "..");
const statics = join(root, "src", "sapper", "web", "static");
const vendor = join(statics, "vendor");
const basemap = join(statics, "basemap");
mkdirSync(vendor, { recursive: true });
mkdirSync(basemap, { recursive: true });

// MapLibre GL JS: the ES module, its worker (resolved next to it via import.meta.url), the stylesheet, the licence.
const maplibre = join(here, "node_modules", "maplibre-gl");
const version = JSON.parse(readFileSync(join(maplibre, "package.json"), "utf8")).version;
for (const name of ["maplibre-gl.mjs", "maplibre-gl-worker.mjs", "maplibre-gl.css"]) {
  copyFileSync(join(maplibre, "dist", name), join(vendor, name));
}
copyFileSync(join(maplibre, "LICENSE.txt"), join(vendor, "maplibre-gl.LICENSE.txt"));
writeFileSync(join(vendor, "VERSIONS.json"), JSON.stringify({ "maplibre-gl": version }, null, 2) + "\n");

// The basemap: the Natural Earth and GeoNames extracts sapper ships for its scenario, trimmed to what a map draws.
const data = join(root, "src", "sapper", "scenario", "data");
const round = (c) => (typeof c === "number" ? Math.round(c * 1e5) / 1e5 : c.map(round));
function extract(source, target, keep, attribution) {
  const fc = JSON.parse(readFileSync(join(data, source), "utf8"));
  const features = fc.features.map((f) => ({
    type: "Feature",
    properties: Object.fromEntries(keep.filter((k) => k in f.properties).map((k) => [k, f.properties[k]])),
    geometry: { type: f.geometry.type, coordinates: round(f.geometry.coordinates) },
  }));
  const out = { type: "FeatureCollection", attribution, features };
  writeFileSync(join(basemap, target), JSON.stringify(out) + "\n");
}
const NE = "Natural Earth (public domain)";
extract("oblasts_ne10m.geojson", "oblasts.geojson", ["name", "country", "iso_3166_2"], NE);
extract("border_lines_ne10m.geojson", "border.geojson", [], NE);
extract("settlements_geonames_cities500.geojson", "towns.geojson", ["geonameid", "asciiname", "population"],
  "GeoNames (geonames.org), CC BY 4.0");
console.log(`vendored maplibre-gl ${version}; basemap written to ${basemap}`);
