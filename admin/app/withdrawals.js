/**
 * The withdrawal queue: requested withdrawals, oldest waiting first in view, with approve and
 * reject. Above the four-eyes threshold the first approval leaves it "waiting for a second approver";
 * the server refuses the same person twice and says so. Buttons show only for roles that may act.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, money, mutationProblem, playerName, viewer, when, words } from "./ui.js";

const QUEUE = `query Queue { payments(filter: {kind: WITHDRAWAL, status: REQUESTED}, first: 50) {
  edges { node { id amount { amount currency } method createdAt awaitingSecondApproval firstApprovedBy
    player { id email firstName lastName } } } } }`;

class Withdrawals extends QueryElement {
  static properties = { ...QueryElement.properties, message: { state: true }, problem: { state: true },
                        busy: { state: true } };
  query = QUEUE;
  emptyText = "No withdrawal is waiting. The queue is empty.";

  get rootPath() {
    return ["payments"];
  }

  isEmpty(data) {
    return !data?.payments?.edges?.length;
  }

  frame(body) {
    return html`<h2>Withdrawal queue</h2>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    const approve = viewer.can("Mutation.approveWithdrawal");
    const reject = viewer.can("Mutation.rejectWithdrawal");
    return html`<table>
      <thead><tr><th>Requested</th><th>Player</th><th class="num">Amount</th><th>Method</th><th>State</th>
        ${approve || reject ? html`<th>Decision</th>` : nothing}</tr></thead>
      <tbody>${data.payments.edges.map(({ node }) => html`<tr data-payment=${node.id}>
        <td>${when(node.createdAt)}</td>
        <td><a href="#/players/${encodeURIComponent(node.player?.id ?? "")}">${playerName(node.player)}</a></td>
        <td class="num">${money(node.amount)}</td><td>${words(node.method)}</td>
        <td>${node.awaitingSecondApproval ? badge("waiting for a second approver") : badge("requested")}</td>
        ${approve || reject ? html`<td><div class="row">
          ${approve ? html`<button class="primary" ?disabled=${this.busy}
              @click=${() => this.approve(node)}>${node.awaitingSecondApproval ? "Second approval" : "Approve"}</button>` : nothing}
          ${reject ? html`<input aria-label="Reason to reject" placeholder="Reason to reject" data-reason=${node.id}>
            <button class="danger" ?disabled=${this.busy} @click=${() => this.reject(node)}>Reject</button>` : nothing}
        </div></td>` : nothing}
      </tr>`)}</tbody></table>`;
  }

  async decide(mutation, field, variables, done) {
    this.busy = true;
    this.message = "";
    try {
      const result = await client.mutate(mutation, variables);
      this.problem = mutationProblem(result, field);
      if (!this.problem) this.message = done(result.data[field]);
      await this.reload();
    } finally {
      this.busy = false;
    }
  }

  approve(payment) {
    return this.decide(`mutation($input: ApproveWithdrawalInput!) { approveWithdrawal(input: $input) {
      payment { status } awaitingSecondApproval errors { code field message } } }`, "approveWithdrawal",
    { input: { paymentId: payment.id } }, (answer) => answer.awaitingSecondApproval
      ? `First approval recorded for ${money(payment.amount)}: a second finance colleague must approve it.`
      : `Approved ${money(payment.amount)} for ${playerName(payment.player)} (now ${answer.payment.status.toLowerCase()}).`);
  }

  reject(payment) {
    const reason = this.renderRoot.querySelector(`[data-reason="${payment.id}"]`)?.value ?? "";
    if (!reason.trim()) {
      this.problem = "Give a reason to reject the withdrawal.";
      return undefined;
    }
    return this.decide(`mutation($input: RejectWithdrawalInput!) { rejectWithdrawal(input: $input) {
      payment { status } errors { code field message } } }`, "rejectWithdrawal",
    { input: { paymentId: payment.id, reason } }, () => `Rejected ${money(payment.amount)}; the money is back in the player's balance.`);
  }
}

customElements.define("cr-withdrawals", Withdrawals);
