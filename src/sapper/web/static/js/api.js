// The server's two APIs as the pages use them (docs/web.md is the contract): OGC API – Features for map layers and the
// REST API under /api for records, plans and decisions. Same-origin only; writes carry the CSRF header.
import { language } from "./i18n.js";

const CSRF_COOKIE = "sapper_csrf";
const CSRF_HEADER = "X-CSRF-Token";
// Says "this page handles 401 itself": the server then sends no Basic challenge, which would make the browser pop
// up its own password dialog instead of the page going to its sign-in form.
const SCRIPT = { "X-Requested-With": "sapper-web" };

/** The headers every request of the pages carries: SCRIPT, and the page's language, in which the server says its
 * errors (the problem document's detail; docs/api.md). */
function common() {
  return { ...SCRIPT, "Accept-Language": language() };
}

export class ApiError extends Error {
  constructor(message, status) {
    super(message);
    this.status = status;
  }
}

async function problem(response) {
  let message = `HTTP ${response.status}`;
  try {
    const body = await response.json();
    message = body.detail || body.title || message;
  } catch {
    // not JSON: keep the status line
  }
  return new ApiError(message, response.status);
}

export async function getJSON(url) {
  const response = await fetch(url, { credentials: "same-origin", headers: { ...common(), Accept: "application/json" } });
  if (!response.ok) throw await problem(response);
  return response.json();
}

export function csrfToken() {
  const cookie = document.cookie.split("; ").find((c) => c.startsWith(`${CSRF_COOKIE}=`));
  return cookie ? decodeURIComponent(cookie.slice(CSRF_COOKIE.length + 1)) : "";
}

/** A write (POST, DELETE, …) with the session's CSRF header; the JSON answer, or null for 204. */
export async function sendJSON(method, url, body = undefined) {
  const headers = { ...common(), Accept: "application/json", [CSRF_HEADER]: csrfToken() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  const response = await fetch(url, {
    method,
    credentials: "same-origin",
    headers,
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw await problem(response);
  return response.status === 204 ? null : response.json();
}

export function postJSON(url, body) {
  return sendJSON("POST", url, body);
}

/** Sign in (POST /api/session): the server sets the session cookie and the readable CSRF cookie. */
export async function signIn(name, password) {
  const response = await fetch("/api/session", {
    method: "POST",
    credentials: "same-origin",
    headers: { ...common(), "Content-Type": "application/json", Accept: "application/json" },
    body: JSON.stringify({ name, password }),
  });
  if (!response.ok) throw await problem(response);
  return response.json();
}

/** Sign out (DELETE /api/session, a write: it carries the CSRF header). */
export function signOut() {
  return sendJSON("DELETE", "/api/session");
}

/** Every feature of an OGC API – Features collection, following rel=next links page by page. */
export async function allFeatures(collection, { bbox = null, limit = 500 } = {}) {
  const params = new URLSearchParams({ limit: String(limit), f: "json" });
  if (bbox) params.set("bbox", bbox.join(","));
  let url = `/collections/${collection}/items?${params}`;
  const features = [];
  const seen = new Set();
  while (url && !seen.has(url)) {
    seen.add(url);
    const page = await getJSON(url);
    features.push(...(page.features || []));
    const next = (page.links || []).find((link) => link.rel === "next");
    url = next ? sameOrigin(next.href) : null;
  }
  return { type: "FeatureCollection", features };
}

// A next link may be absolute (the server's own base URL); the page only ever follows it on its own origin.
function sameOrigin(href) {
  const target = new URL(href, location.href);
  return target.pathname + target.search;
}
