// A small polygon draw tool for MapLibre (it has none built in): click to add vertices, double-click to finish,
// Backspace removes the last vertex, Escape cancels. The sketch lives in its own GeoJSON source, "draft".
const EMPTY = { type: "FeatureCollection", features: [] };

export class DrawTool {
  constructor(map, { onFinish, onChange }) {
    this.map = map;
    this.onFinish = onFinish;
    this.onChange = onChange;
    this.vertices = [];
    this.active = false;
    this.cursor = null;
    this._click = (e) => this.addVertex([e.lngLat.lng, e.lngLat.lat]);
    this._dblclick = (e) => {
      e.preventDefault();
      // A double-click also fired two clicks at the same spot: keep one vertex of them.
      const [a, b] = this.vertices.slice(-2);
      if (a && b && a[0] === b[0] && a[1] === b[1]) this.vertices.pop();
      this.finish();
    };
    this._move = (e) => {
      this.cursor = [e.lngLat.lng, e.lngLat.lat];
      this._render();
    };
    this._key = (e) => {
      if (e.key === "Escape") this.cancel();
      if (e.key === "Backspace" && this.vertices.length) {
        this.vertices.pop();
        this._render();
      }
    };
    map.addSource("draft", { type: "geojson", data: EMPTY });
    map.addLayer({ id: "draft-fill", type: "fill", source: "draft", filter: ["==", ["geometry-type"], "Polygon"],
      paint: { "fill-color": "#2b83ba", "fill-opacity": 0.35 } });
    map.addLayer({ id: "draft-line", type: "line", source: "draft", filter: ["!=", ["geometry-type"], "Point"],
      paint: { "line-color": "#08519c", "line-width": 2, "line-dasharray": [2, 1] } });
    map.addLayer({ id: "draft-vertex", type: "circle", source: "draft", filter: ["==", ["geometry-type"], "Point"],
      paint: { "circle-radius": 4, "circle-color": "#ffffff", "circle-stroke-color": "#08519c", "circle-stroke-width": 2 } });
  }

  start() {
    if (this.active) return;
    this.active = true;
    this.vertices = [];
    this.map.doubleClickZoom.disable();
    this.map.getCanvas().style.cursor = "crosshair";
    this.map.on("click", this._click);
    this.map.on("dblclick", this._dblclick);
    this.map.on("mousemove", this._move);
    document.addEventListener("keydown", this._key);
    this._render();
  }

  addVertex(lngLat) {
    if (!this.active) return;
    this.vertices.push(lngLat);
    this._render();
  }

  /** Close the ring and hand the polygon over; fewer than three vertices is refused (onFinish gets null). */
  finish() {
    if (!this.active) return null;
    const ring = this.vertices.slice();
    this._stop();
    this.onChange?.(ring.length);
    if (ring.length < 3) {
      this.onFinish(null);
      return null;
    }
    const polygon = { type: "Polygon", coordinates: [[...ring, ring[0]]] };
    this.map.getSource("draft").setData({ type: "Feature", properties: {}, geometry: polygon });
    this.onFinish(polygon);
    return polygon;
  }

  cancel() {
    this._stop();
    this.clear();
  }

  clear() {
    this.vertices = [];
    this.map.getSource("draft").setData(EMPTY);
    this.onChange?.(0);
  }

  _stop() {
    this.active = false;
    this.cursor = null;
    this.map.off("click", this._click);
    this.map.off("dblclick", this._dblclick);
    this.map.off("mousemove", this._move);
    document.removeEventListener("keydown", this._key);
    this.map.getCanvas().style.cursor = "";
    setTimeout(() => this.map.doubleClickZoom.enable(), 0);
  }

  _render() {
    const points = this.vertices.map((c) => ({ type: "Feature", properties: {}, geometry: { type: "Point", coordinates: c } }));
    const path = this.cursor ? [...this.vertices, this.cursor] : this.vertices;
    const features = [...points];
    if (path.length >= 3) {
      features.push({ type: "Feature", properties: {}, geometry: { type: "Polygon", coordinates: [[...path, path[0]]] } });
    } else if (path.length === 2) {
      features.push({ type: "Feature", properties: {}, geometry: { type: "LineString", coordinates: path } });
    }
    this.map.getSource("draft").setData({ type: "FeatureCollection", features });
    this.onChange?.(this.vertices.length);
  }
}
