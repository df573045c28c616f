/**
 * Deposits a risk rule held (status HELD: no PSP asked, no money moved), for the risk desk: the list on the
 * risk queue screen (player, amount, method, when, why) and the decision on each, with a reason (audited):
 * release (the deposit goes on to the PSPs) or decline (it fails, RISK_DECLINED). The player 360's payments
 * section offers the same decision on a held deposit (`heldDecision`). Buttons show only to roles that may
 * decide (`Mutation.releaseHeldDeposit` / `Mutation.declineHeldDeposit`); the server checks again.
 */
import { html, nothing } from "lit";
import { QueryElement, client, money, mutationProblem, pager, playerName, viewer, when, words } from "./ui.js";

const RELEASE = `mutation($input: HeldDepositDecisionInput!) { releaseHeldDeposit(input: $input) {
  payment { id status failureMessage } errors { code field message } } }`;
const DECLINE = `mutation($input: HeldDepositDecisionInput!) { declineHeldDeposit(input: $input) {
  payment { id status } errors { code field message } } }`;

/** May this viewer release or decline held deposits? */
export function mayDecideHeld() {
  return viewer.can("Mutation.releaseHeldDeposit") || viewer.can("Mutation.declineHeldDeposit");
}

/**
 * The decision on one held deposit: a reason and the two buttons. `decide(verdict, reason)` is called with
 * "release" or "decline" once a reason is written (else `problem` is told so).
 */
export function heldDecision(payment, { busy, decide, problem }) {
  const act = (event, verdict) => {
    const reason = String(new FormData(event.target.form).get("reason") ?? "").trim();
    if (!reason) {
      problem("Write a reason: why release or decline it.");
      return;
    }
    decide(verdict, reason);
  };
  return html`<form class="row" aria-label="Decide the held deposit of ${money(payment.amount)}"
      @submit=${(e) => e.preventDefault()}>
    <input name="reason" aria-label="Reason" placeholder="why (audited)" maxlength="500">
    ${viewer.can("Mutation.releaseHeldDeposit") ? html`<button class="primary" type="button" ?disabled=${busy}
      @click=${(e) => act(e, "release")}>Release</button>` : nothing}
    ${viewer.can("Mutation.declineHeldDeposit") ? html`<button class="danger" type="button" ?disabled=${busy}
      @click=${(e) => act(e, "decline")}>Decline</button>` : nothing}
  </form>`;
}

/** Send the decision; the problem in words ("" when done) and the payment's status after it. */
export async function sendHeldDecision(payment, verdict, reason) {
  const field = verdict === "release" ? "releaseHeldDeposit" : "declineHeldDeposit";
  const result = await client.mutate(verdict === "release" ? RELEASE : DECLINE,
    { input: { paymentId: payment.id, reason } });
  const problem = mutationProblem(result, field);
  const after = result.data?.[field]?.payment;
  if (problem && !after) return { problem, message: "" };
  const outcome = verdict === "release"
    ? `Released ${money(payment.amount)}: the deposit is now ${words(after?.status)}.`
    : `Declined ${money(payment.amount)}: nothing was charged.`;
  // A released deposit the PSPs then refuse comes back failed, with its failure as the payload's error.
  return { problem: verdict === "release" && problem ? `${outcome} ${problem}` : "", message: problem ? "" : outcome };
}

/** The player's score reasons that a rule gave since the deposit was made: why it was held. */
export function heldReasons(payment) {
  const reasons = payment.player?.risk?.score?.reasons ?? [];
  const since = new Date(payment.createdAt);
  return reasons.filter((r) => new Date(r.lastHitAt) >= since);
}

const HELD = `query HeldDeposits($after: String) {
  payments(filter: {kind: DEPOSIT, status: HELD}, first: 50, after: $after) {
    edges { cursor node { id amount { amount currency } method createdAt
      player { id email firstName lastName risk { score { value reasons { ruleCode reason lastHitAt } } } } } }
    pageInfo { hasNextPage } } }`;

class HeldDeposits extends QueryElement {
  static properties = { ...QueryElement.properties, message: { state: true }, problem: { state: true },
                        busy: { state: true } };
  query = HELD;
  emptyText = "No deposit is held.";

  constructor() {
    super();
    this.pages = [null]; // the cursors of the pages walked (null: the first)
    this.message = "";
    this.problem = "";
  }

  get rootPath() {
    return ["payments"];
  }

  variables() {
    return { after: this.pages[this.pages.length - 1] };
  }

  isEmpty(data) {
    return !data?.payments?.edges?.length;
  }

  frame(body) {
    return html`<section aria-labelledby="held-title" style="margin-bottom:1.25rem">
      <h2 id="held-title">Held deposits</h2>
      <p class="muted">Deposits a risk rule held: no payment provider was asked, no money moved.</p>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card">${body}</div></section>`;
  }

  renderData(data) {
    const decide = mayDecideHeld();
    const { edges, pageInfo } = data.payments;
    return html`<table aria-label="Held deposits">
      <thead><tr><th>Held since</th><th>Player</th><th class="num">Amount</th><th>Method</th><th>Why</th>
        ${decide ? html`<th>Decision</th>` : nothing}</tr></thead>
      <tbody>${edges.map(({ node }) => {
        const reasons = heldReasons(node);
        return html`<tr data-payment=${node.id}>
          <td>${when(node.createdAt)}</td>
          <td><a href="#/players/${encodeURIComponent(node.player?.id ?? "")}">${playerName(node.player)}</a></td>
          <td class="num">${money(node.amount)}</td><td>${words(node.method)}</td>
          <td>${reasons.length ? html`<ul style="margin:0;padding-left:1rem" aria-label="Why held">${reasons.map((r) =>
            html`<li><strong>${r.ruleCode}</strong>: ${r.reason}</li>`)}</ul>` : html`<span class="muted">—</span>`}</td>
          ${decide ? html`<td>${heldDecision(node, {
            busy: this.busy,
            decide: (verdict, reason) => this.decide(node, verdict, reason),
            problem: (text) => { this.problem = text; this.message = ""; },
          })}</td>` : nothing}
        </tr>`;
      })}</tbody></table>
      ${pager(this, edges, pageInfo)}`;
  }

  async decide(payment, verdict, reason) {
    this.busy = true;
    try {
      const { problem, message } = await sendHeldDecision(payment, verdict, reason);
      this.problem = problem;
      this.message = message ? `${message} (${playerName(payment.player)})` : "";
      await this.reload();
    } finally {
      this.busy = false;
    }
  }
}

customElements.define("cr-held-deposits", HeldDeposits);
