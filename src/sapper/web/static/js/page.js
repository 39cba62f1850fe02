// What every page shares: the navigation bar, who is signed in (and signing out), the language switcher, the
// SYNTHETIC DATA badge, the status line.
import { getJSON, signOut } from "./api.js";
import { LANGUAGES, chosenLanguage, loadLanguage, t, translatePage } from "./i18n.js";

const NAV = [
  ["index.html", "nav.map"],
  ["plan.html", "nav.plan"],
  ["review.html", "nav.review"],
];
export const SIGN_IN_PAGE = "signin.html";

/** The sign-in page's URL that comes back to this page afterwards. */
export function signInUrl() {
  const here = location.pathname.split("/").pop() || "index.html";
  return `${SIGN_IN_PAGE}?next=${encodeURIComponent(here + location.search)}`;
}

/** Load the catalogue, build the header; onLanguage(lang) re-renders the page's own content after a switch.
 * With account (the default) the header shows who is signed in and a sign-out button; without a session
 * (the API answers 401) the page goes to the sign-in page, which comes back here afterwards. */
export async function setupPage(current, onLanguage, { account = true } = {}) {
  await loadLanguage(chosenLanguage());
  const header = document.createElement("header");
  header.className = "topbar";
  const links = NAV.map(([href, key]) =>
    `<a href="${href}" data-i18n="${key}"${href === current ? ' aria-current="page"' : ""}></a>`).join("");
  const options = Object.entries(LANGUAGES).map(([code, name]) => `<option value="${code}">${name}</option>`).join("");
  header.innerHTML = `<span class="brand" data-i18n="app.title"></span><nav>${account ? links : ""}</nav>
    <span id="synthetic-badge" class="badge synthetic" data-i18n="badge.synthetic" hidden></span>
    <span id="generalised-badge" class="badge generalised" data-i18n="badge.generalised" hidden></span>
    <label class="lang"><span data-i18n="nav.language"></span> <select id="lang">${options}</select></label>
    <span id="account" class="account"></span>`;
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
  if (account) await showAccount();
}

// Who is signed in, with a sign-out button; no session: off to the sign-in page.
async function showAccount() {
  const box = document.getElementById("account");
  let me;
  try {
    me = await getJSON("/api/v1/me");
  } catch (error) {
    if (error.status === 401) {
      location.replace(signInUrl());
      await new Promise(() => {}); // the page is leaving: nothing else runs
    }
    return; // another failure: the page's own requests will say what went wrong
  }
  box.innerHTML = `<span class="who"></span> <button type="button" id="sign-out" data-i18n="nav.signout"></button>`;
  box.querySelector(".who").textContent = `${me.name} (${me.role}, ${me.organisation_id})`;
  translatePage(box);
  box.querySelector("#sign-out").addEventListener("click", async () => {
    try {
      await signOut();
    } catch (error) {
      if (error.status !== 401) return showStatus(t("error.save", { message: error.message }), "error");
    }
    location.assign(`${SIGN_IN_PAGE}?signed_out=1`);
  });
}

/** Show the SYNTHETIC DATA badge when any record says it is synthetic; the generalised note likewise. */
export function markData(records) {
  const props = records.map((r) => r.properties ?? r);
  // GeoPackage keeps booleans as integers: the OGC items say 1 where the REST records say true.
  if (props.some((p) => p.synthetic === true || p.synthetic === 1)) document.getElementById("synthetic-badge").hidden = false;
  if (props.some((p) => p.generalised === true)) document.getElementById("generalised-badge").hidden = false;
}

/** Show a message on the status line; a 401 message (the session ended) gets a sign-in link. */
export function showStatus(message, kind = "info") {
  const status = document.getElementById("status");
  status.textContent = message;
  status.className = `status ${kind}`;
  if (message && message === t("error.signin")) {
    const link = document.createElement("a");
    link.href = signInUrl();
    link.textContent = t("nav.signin");
    status.append(" ", link);
  }
}

/** The line to show for a failed request: a sign-in prompt for 401, else what failed and the server's detail. */
export function describeError(error, what) {
  return error.status === 401 ? t("error.signin") : t("error.load", { what, message: error.message });
}

export function escapeHtml(value) {
  return String(value ?? "").replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" })[c]);
}

export { t };
