// The UI's strings: one JSON catalogue per language (i18n/{en,uk,ru}.json); plural entries are objects keyed by the
// CLDR plural category (Intl.PluralRules), e.g. {"one": "...", "few": "...", "many": "...", "other": "..."}.
export const LANGUAGES = { en: "English", uk: "Українська", ru: "Русский" };
const STORAGE_KEY = "sapper.lang";
let catalogue = {};
let current = "en";

export function chosenLanguage() {
  const fromUrl = new URLSearchParams(location.search).get("lang");
  const stored = localStorage.getItem(STORAGE_KEY);
  for (const lang of [fromUrl, stored, (navigator.language || "en").slice(0, 2)]) {
    if (lang && lang in LANGUAGES) return lang;
  }
  return "en";
}

export async function loadLanguage(lang) {
  const response = await fetch(`i18n/${lang}.json`);
  if (!response.ok) throw new Error(`catalogue ${lang}: HTTP ${response.status}`);
  catalogue = await response.json();
  current = lang;
  localStorage.setItem(STORAGE_KEY, lang);
  document.documentElement.lang = lang;
}

export function language() {
  return current;
}

/** The string for key, with {name} placeholders filled from vars; a plural entry is chosen by vars.count. */
export function t(key, vars = {}) {
  let entry = catalogue[key];
  if (entry === undefined) return key;
  if (typeof entry === "object") {
    const category = new Intl.PluralRules(current).select(Number(vars.count ?? 0));
    entry = entry[category] ?? entry.other;
  }
  return entry.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? formatValue(vars[name]) : `{${name}}`));
}

function formatValue(value) {
  return typeof value === "number" ? new Intl.NumberFormat(current).format(value) : String(value);
}

export function formatNumber(value, digits = 0) {
  return new Intl.NumberFormat(current, { maximumFractionDigits: digits }).format(value);
}

export function formatDate(iso) {
  if (!iso) return "—";
  const date = new Date(`${iso.slice(0, 10)}T00:00:00Z`);
  return new Intl.DateTimeFormat(current, { year: "numeric", month: "short", day: "numeric", timeZone: "UTC" }).format(date);
}

/** Fill every element that carries a data-i18n (text) or data-i18n-title (tooltip) catalogue key. */
export function translatePage(root = document) {
  for (const el of root.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll("[data-i18n-title]")) el.title = t(el.dataset.i18nTitle);
}
