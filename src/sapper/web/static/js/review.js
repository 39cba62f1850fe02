// The field-review page: submissions from ODK Central / KoboToolbox as the store stages them, taken through the
// register's review steps — staged → reviewed (POST …/review) → approved (POST …/approve), or rejected with a reason
// (POST …/reject) — and then written into the register (POST /api/submissions/apply). Every write carries the
// session's CSRF header; the server audits each.
import { getJSON, postJSON } from "./api.js";
import { formatDate, t } from "./i18n.js";
import { describeError, escapeHtml, setupPage, showStatus } from "./page.js";

// The states a decision can still be made on (or, approved, that apply will write).
const OPEN = ["staged", "reviewed", "approved"];
const NEXT = { staged: "review", reviewed: "approve" };
let items = [];
const decisions = {};

function render() {
  const body = document.querySelector("#submissions tbody");
  body.innerHTML = items.map((s) => {
    const id = escapeHtml(s.id);
    const step = NEXT[s.state];
    const actions = !step
      ? ""
      : `<button type="button" data-action="${step}" data-id="${id}">${escapeHtml(t(`review.${step}`))}</button>
         <input type="text" data-reason="${id}" placeholder="${escapeHtml(t("review.reason"))}">
         <button type="button" data-action="reject" data-id="${id}">${escapeHtml(t("review.reject"))}</button>`;
    return `<tr data-id="${id}" class="${step ? "" : "decided"}"><td>${escapeHtml(formatDate(s.submitted_at))}</td>
      <td>${escapeHtml(s.form_id)}</td><td>${escapeHtml(s.submitter)}</td><td>${escapeHtml(s.summary)}</td>
      <td class="state">${escapeHtml(t(`review.state_${s.state}`))}</td><td>${actions}</td></tr>`;
  }).join("");
  const waiting = items.filter((s) => NEXT[s.state]).length;
  const approved = items.filter((s) => s.state === "approved").length;
  document.getElementById("apply").disabled = approved === 0;
  showStatus(items.length ? t("review.count", { count: waiting }) : t("review.none"));
}

async function load() {
  const all = (await getJSON("/api/submissions")).items;
  items = all.filter((s) => OPEN.includes(s.state) || decisions[s.id]);
  render();
}

async function decide(id, action) {
  const reasonInput = document.querySelector(`input[data-reason="${CSS.escape(String(id))}"]`);
  const reason = reasonInput ? reasonInput.value.trim() : "";
  if (action === "reject" && !reason) {
    reasonInput?.focus();
    showStatus(t("review.reason"), "error");
    return;
  }
  try {
    const result = await postJSON(`/api/submissions/${encodeURIComponent(id)}/${action}`, action === "reject" ? { reason } : {});
    decisions[id] = result.state;
    await load();
  } catch (error) {
    showStatus(t("error.save", { message: error.message }), "error");
  }
}

async function applyApproved() {
  try {
    const result = await postJSON("/api/submissions/apply", {});
    window.sapperReview.lastApply = result;
    for (const s of items) if (s.state === "approved") decisions[s.id] = "applied";
    await load();
    const faults = result.not_applied.length ? ` ${result.not_applied.join("; ")}` : "";
    showStatus(t("review.applied", { count: result.applied.length }) + faults, result.not_applied.length ? "error" : "ok");
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
  document.getElementById("apply").addEventListener("click", applyApproved);
  window.sapperReview = { rowCount: () => items.length, decisions, decide, apply: applyApproved, loaded: false };
  try {
    await load();
  } catch (error) {
    showStatus(describeError(error, t("review.title")), "error");
  }
  window.sapperReview.loaded = true;
}

main();
