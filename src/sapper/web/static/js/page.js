// What every page shares: the navigation bar, the language switcher, the SYNTHETIC DATA badge, the status line.
import { LANGUAGES, chosenLanguage, loadLanguage, t, translatePage } from "./i18n.js";

const NAV = [
  ["index.html", "nav.map"],
  ["plan.html", "nav.plan"],
  ["review.html", "nav.review"],
];

/** Load the catalogue, build the header; onLanguage(lang) re-renders the page's own content after a switch. */
export async function setupPage(current, onLanguage) {
  await loadLanguage(chosenLanguage());
  const header = document.createElement("header");
  header.className = "topbar";
  const links = NAV.map(([href, key]) =>
    `<a href="${href}" data-i18n="${key}"${href === current ? ' aria-current="page"' : ""}></a>`).join("");
  const options = Object.entries(LANGUAGES).map(([code, name]) => `<option value="${code}">${name}</option>`).join("");
  header.innerHTML = `<span class="brand" data-i18n="app.title"></span><nav>${links}</nav>
    <span id="synthetic-badge" class="badge synthetic" data-i18n="badge.synthetic" hidden></span>
    <span id="generalised-badge" class="badge generalised" data-i18n="badge.generalised" hidden></span>
    <label class="lang"><span data-i18n="nav.language"></span> <select id="lang">${options}</select></label>`;
  document.body.prepend(header);
  const select = header.querySelector("#lang");
  select.value = document.documentElement.lang;
  select.addEventListener("change", async () => {
    await loadLanguage(select.value);
    translatePage();
    showStatus("");
    onLanguage?.(select.value);
  });
  translatePage();
}

/** Show the SYNTHETIC DATA badge when any record says it is synthetic; the generalised note likewise. */
export function markData(records) {
  const props = records.map((r) => r.properties ?? r);
  if (props.some((p) => p.synthetic === true)) document.getElementById("synthetic-badge").hidden = false;
  if (props.some((p) => p.generalised === true)) document.getElementById("generalised-badge").hidden = false;
}

export function showStatus(message, kind = "info") {
  const status = document.getElementById("status");
  status.textContent = message;
  status.className = `status ${kind}`;
}

/** The line to show for a failed request: a sign-in prompt for 401, else what failed and the server's detail. */
export function describeError(error, what) {
  return error.status === 401 ? t("error.signin") : t("error.load", { what, message: error.message });
}

export function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export { t };
