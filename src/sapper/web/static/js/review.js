// The field-review page: staged submissions from ODK Central / KoboToolbox, each approved or rejected (with a
// reason) by POST /api/submissions/{id}/{approve|reject}, carrying the session's CSRF header.
import { getJSON, postJSON } from "./api.js";
import { formatDate, t } from "./i18n.js";
import { describeError, escapeHtml, markData, setupPage, showStatus } from "./page.js";

let items = [];
const decisions = {};

function render() {
  const body = document.querySelector("#submissions tbody");
  body.innerHTML = items.map((s) => {
    const decided = decisions[s.id];
    const actions = decided
      ? `<span class="decision">${escapeHtml(t(`review.${decided}`))}</span>`
      : `<button type="button" data-action="approve" data-id="${escapeHtml(s.id)}">${escapeHtml(t("review.approve"))}</button>
         <input type="text" data-reason="${escapeHtml(s.id)}" placeholder="${escapeHtml(t("review.reason"))}">
         <button type="button" data-action="reject" data-id="${escapeHtml(s.id)}">${escapeHtml(t("review.reject"))}</button>`;
    return `<tr data-id="${escapeHtml(s.id)}" class="${decided ? "decided" : ""}"><td>${escapeHtml(formatDate(s.submitted_at))}</td>
      <td>${escapeHtml(s.form_id)}</td><td>${escapeHtml(s.submitter)}</td>
      <td>${escapeHtml(s.target ? `${s.target.name} (${s.target.id})` : "—")}</td><td>${escapeHtml(s.summary)}</td><td>${actions}</td></tr>`;
  }).join("");
  const waiting = items.filter((s) => !decisions[s.id]).length;
  showStatus(items.length ? t("review.count", { count: waiting }) : t("review.none"));
}

async function decide(id, action) {
  const reasonInput = document.querySelector(`input[data-reason="${CSS.escape(id)}"]`);
  const reason = reasonInput ? reasonInput.value.trim() : "";
  if (action === "reject" && !reason) {
    reasonInput?.focus();
    showStatus(t("review.reason"), "error");
    return;
  }
  try {
    const result = await postJSON(`/api/submissions/${encodeURIComponent(id)}/${action}`, action === "reject" ? { reason } : {});
    decisions[id] = result.state === "rejected" ? "rejected" : "approved";
    render();
  } catch (error) {
    showStatus(t("error.save", { message: error.message }), "error");
  }
}

async function main() {
  await setupPage("review.html", render);
  document.querySelector("#submissions tbody").addEventListener("click", (event) => {
    const button = event.target.closest("button[data-action]");
    if (button) decide(button.dataset.id, button.dataset.action);
  });
  try {
    items = (await getJSON("/api/submissions?state=staged")).items;
    markData(items);
    render();
  } catch (error) {
    showStatus(describeError(error, t("review.title")), "error");
  }
  window.sapperReview = { rowCount: () => items.length, decisions, decide, loaded: true };
}

main();
