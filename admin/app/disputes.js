/**
 * Chargeback disputes: the queue (open ones by default; filter by state), what each chargeback took from
 * cash and booked as debt, its evidence snapshot (for roles that may read it: deposits, login and game
 * sessions, rounds, KYC), and staff's two steps: submit the evidence to the PSP (with what was sent) and
 * close it as lost (with a reason). A won dispute is the PSP's word: it arrives as a webhook, never a button.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, money, mutationProblem, playerName, viewer, when, words } from "./ui.js";

const QUEUE = `query Disputes($states: [DisputeState!]) {
  disputes(filter: {states: $states}, first: 50) { edges { node {
    id state psp chargebackId reasonCode createdAt note
    amount { amount currency } cashDebited { amount currency } debtBooked { amount currency }
    player { id email firstName lastName }
  } } } }`;
const EVIDENCE = `query Evidence($id: ID!) { dispute(id: $id) { id evidence } }`;
const OPEN = ["OPEN", "EVIDENCE_SUBMITTED"];

class Disputes extends QueryElement {
  static properties = { ...QueryElement.properties, message: { state: true }, problem: { state: true },
                        busy: { state: true }, open: { state: true }, evidence: { state: true } };
  query = QUEUE;
  emptyText = "No dispute matches.";
  states = OPEN;

  get rootPath() {
    return ["disputes"];
  }

  variables() {
    return { states: this.states.length ? this.states : null };
  }

  isEmpty(data) {
    return !data?.disputes?.edges?.length;
  }

  filter(value) {
    this.states = value === "" ? [] : value === "ACTIVE" ? OPEN : [value];
    this.reload();
  }

  frame(body) {
    return html`<h2>Chargeback disputes</h2>
      <div class="row" role="search">
        <label>State <select aria-label="State" @change=${(e) => this.filter(e.target.value)}>
          ${["ACTIVE", "OPEN", "EVIDENCE_SUBMITTED", "WON", "LOST", ""].map((s) => html`<option value=${s}>
            ${s === "ACTIVE" ? "open or submitted" : s ? words(s) : "any"}</option>`)}</select></label>
      </div>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    const submit = viewer.can("Mutation.submitDisputeEvidence");
    const lose = viewer.can("Mutation.closeDisputeLost");
    return html`<table>
      <thead><tr><th>Opened</th><th>Player</th><th>PSP</th><th>Reason</th><th class="num">Charged back</th>
        <th class="num">From cash</th><th class="num">Debt</th><th>State</th><th>Evidence</th>
        ${submit || lose ? html`<th>Steps</th>` : nothing}</tr></thead>
      <tbody>${data.disputes.edges.map(({ node }) => html`<tr data-dispute=${node.id}>
        <td>${when(node.createdAt)}</td>
        <td><a href="#/players/${encodeURIComponent(node.player?.id ?? "")}">${playerName(node.player)}</a></td>
        <td>${node.psp} <small>${node.chargebackId}</small></td><td>${words(node.reasonCode ?? "")}</td>
        <td class="num">${money(node.amount)}</td><td class="num">${money(node.cashDebited)}</td>
        <td class="num">${money(node.debtBooked)}</td>
        <td>${badge(words(node.state))}${node.note ? html` <span>${node.note}</span>` : nothing}</td>
        <td><button @click=${() => this.toggle(node)} aria-expanded=${this.open === node.id}>Show evidence</button>
          ${this.open === node.id ? this.snapshot() : nothing}</td>
        ${submit || lose ? html`<td>${OPEN.includes(node.state) ? html`<div class="row">
          <input aria-label="Note or reason" placeholder="What was sent, or why lost" data-note=${node.id}>
          ${submit && node.state === "OPEN" ? html`<button class="primary" ?disabled=${this.busy}
            @click=${() => this.step(node, "submit")}>Submit evidence</button>` : nothing}
          ${lose ? html`<button class="danger" ?disabled=${this.busy}
            @click=${() => this.step(node, "lose")}>Close as lost</button>` : nothing}
        </div>` : nothing}</td>` : nothing}
      </tr>`)}</tbody></table>`;
  }

  async toggle(dispute) {
    if (this.open === dispute.id) {
      this.open = null;
      return;
    }
    this.open = dispute.id;
    this.evidence = undefined;
    const result = await client.query(EVIDENCE, { id: dispute.id });
    if (this.open !== dispute.id) return;
    this.evidence = result.forbidden("dispute", "evidence") ? null : result.data?.dispute?.evidence ?? null;
  }

  snapshot() {
    const e = this.evidence;
    if (e === undefined) return html`<p class="state">Loading…</p>`;
    if (e === null) return html`<p class="state" aria-label="Evidence">Not shown to your role.</p>`;
    return html`<div class="explanation" aria-label="Evidence">
      <p>Taken ${when(e.taken_at)}: ${e.deposits.length} deposits, ${e.sessions.length} login sessions,
        ${e.game_sessions.length} game sessions, ${e.rounds.length} rounds; KYC ${e.kyc.level ?? "none"}
        (${words(e.kyc.status ?? "unknown")}).</p>
      <table><thead><tr><th>Deposit</th><th>Status</th><th class="num">Amount</th><th>PSP</th></tr></thead>
        <tbody>${e.deposits.map((d) => html`<tr><td>${when(d.created_at)}</td><td>${words(d.status)}</td>
          <td class="num">${(d.amount / 100).toFixed(2)} ${d.currency}</td><td>${d.psp ?? ""}</td></tr>`)}</tbody></table>
      <ul>${e.sessions.map((s) => html`<li>${when(s.created_at)}: ${s.ip ?? "?"} (${s.country ?? "?"}),
        ${s.device ?? s.user_agent ?? ""}</li>`)}</ul></div>`;
  }

  async step(dispute, which) {
    const text = this.renderRoot.querySelector(`[data-note="${dispute.id}"]`)?.value ?? "";
    if (!text.trim()) {
      this.problem = which === "submit" ? "Say what was sent to the PSP." : "Give a reason to close it as lost.";
      return;
    }
    const [mutation, field, input, done] = which === "submit"
      ? [`mutation($input: SubmitDisputeEvidenceInput!) { submitDisputeEvidence(input: $input) {
          dispute { id state } errors { code field message } } }`, "submitDisputeEvidence",
        { disputeId: dispute.id, note: text }, "evidence submitted"]
      : [`mutation($input: CloseDisputeLostInput!) { closeDisputeLost(input: $input) {
          dispute { id state } errors { code field message } } }`, "closeDisputeLost",
        { disputeId: dispute.id, reason: text }, "closed as lost"];
    this.busy = true;
    this.message = "";
    try {
      const result = await client.mutate(mutation, { input });
      this.problem = mutationProblem(result, field);
      if (!this.problem) this.message = `Dispute of ${playerName(dispute.player)} ${done}.`;
      await this.reload();
    } finally {
      this.busy = false;
    }
  }
}

customElements.define("cr-disputes", Disputes);
