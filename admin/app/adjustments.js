/**
 * Manual adjustments waiting for a second approver, and the latest decided ones. A second staff
 * member approves or rejects (the server refuses the requester deciding their own). Adjustments
 * are made from the player 360 (`cr-adjust-form`).
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, money, mutationProblem, playerName, viewer, when } from "./ui.js";

class Adjustments extends QueryElement {
  static properties = { ...QueryElement.properties, message: { state: true }, problem: { state: true } };
  query = `query Adjustments { pending: adjustments(status: PENDING_APPROVAL, first: 50) { edges { node { ...A } } }
    recent: adjustments(first: 20) { edges { node { ...A } } } }
    fragment A on Adjustment { id amount { amount currency } reason status createdAt decidedAt decisionReason
      player { id email firstName lastName } }`;

  get rootPath() {
    return ["pending"];
  }

  frame(body) {
    return html`<h2>Manual adjustments</h2>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}${body}`;
  }

  renderData(data) {
    const decide = viewer.can("Mutation.decideAdjustment");
    const pending = data.pending.edges.map((e) => e.node);
    const recent = data.recent.edges.map((e) => e.node).filter((a) => a.status !== "PENDING_APPROVAL");
    return html`
      <section class="card" aria-labelledby="pending-title"><h3 id="pending-title">Waiting for a second approver</h3>
        ${pending.length ? this.table(pending, decide) : html`<p class="state">Nothing is waiting.</p>`}</section>
      <section class="card" style="margin-top:1rem" aria-labelledby="recent-title"><h3 id="recent-title">Recent</h3>
        ${recent.length ? this.table(recent, false) : html`<p class="state">No adjustment yet.</p>`}</section>`;
  }

  table(rows, decide) {
    return html`<table><thead><tr><th>When</th><th>Player</th><th class="num">Amount</th><th>Reason</th><th>Status</th>
      ${decide ? html`<th>Decision</th>` : nothing}</tr></thead>
      <tbody>${rows.map((a) => html`<tr><td>${when(a.createdAt)}</td>
        <td><a href="#/players/${encodeURIComponent(a.player?.id ?? "")}">${playerName(a.player)}</a></td>
        <td class="num">${money(a.amount)}</td><td>${a.reason}${a.decisionReason ? html`<br><span class="muted">${a.decisionReason}</span>` : ""}</td>
        <td>${badge(a.status)}</td>
        ${decide ? html`<td><div class="row"><button class="primary" @click=${() => this.decide(a, true)}>Approve</button>
          <button class="danger" @click=${() => this.decide(a, false)}>Reject</button></div></td>` : nothing}</tr>`)}
      </tbody></table>`;
  }

  async decide(adjustment, approve) {
    const result = await client.mutate(`mutation($input: DecideAdjustmentInput!) { decideAdjustment(input: $input) {
      adjustment { status } errors { code field message } } }`,
    { input: { adjustmentId: adjustment.id, approve, reason: approve ? "approved in the back office" : "rejected in the back office" } });
    this.problem = mutationProblem(result, "decideAdjustment");
    this.message = this.problem ? "" : `Adjustment of ${money(adjustment.amount)} ${approve ? "approved" : "rejected"}.`;
    await this.reload();
  }
}

customElements.define("cr-adjustments", Adjustments);
