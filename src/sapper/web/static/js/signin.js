// The sign-in page: POST /api/session with the user name and password; the server sets an HttpOnly session cookie
// and a readable CSRF cookie (double submit: every later write sends it back as X-CSRF-Token). Then on to the page
// that sent us here (?next=, only a page of this folder) or the map. A refusal never says which of the two was wrong.
import { signIn } from "./api.js";
import { t } from "./i18n.js";
import { setupPage, showStatus } from "./page.js";

const PAGE = /^[\w-]+\.html(\?[^#]*)?$/;

function nextPage() {
  const wanted = new URLSearchParams(location.search).get("next") || "";
  return PAGE.test(wanted) ? wanted : "index.html";
}

async function submit(event) {
  event.preventDefault();
  const form = event.target;
  const name = form.elements.name.value.trim();
  const password = form.elements.password.value;
  if (!name || !password) {
    showStatus(t("signin.missing"), "error");
    (name ? form.elements.password : form.elements.name).focus();
    return;
  }
  const button = form.querySelector("button[type=submit]");
  button.disabled = true;
  showStatus(t("signin.busy"));
  try {
    await signIn(name, password);
    window.sapperSignIn.signedIn = true;
    location.assign(nextPage());
  } catch (error) {
    form.elements.password.value = "";
    form.elements.password.focus();
    // 401: the same words whatever was wrong (the server does not say either); anything else: what failed.
    showStatus(error.status === 401 ? t("signin.failed") : t("error.save", { message: error.message }), "error");
  } finally {
    button.disabled = false;
  }
}

async function main() {
  await setupPage("signin.html", null, { account: false });
  const form = document.getElementById("signin-form");
  form.addEventListener("submit", submit);
  if (new URLSearchParams(location.search).get("signed_out")) showStatus(t("signin.signed_out"), "ok");
  form.elements.name.focus();
  window.sapperSignIn = { ready: true, signedIn: false, next: nextPage() };
}

main();
