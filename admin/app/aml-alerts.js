/**
 * Transaction-monitoring alerts: the queue (open by default; filter by status, outcome and rule), each
 * alert's explanation (the rules that fired, their figures and the events they read), and the decision:
 * confirm as suspicious or dismiss, with a reason. Decision buttons show only for roles that may decide.
 * Amounts in the figures are minor units of the base currency (EUR cents), shown as EUR.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, mutationProblem, playerName, viewer, when, words } from "./ui.js";

const QUEUE = `query AmlAlerts($status: AmlAlertStatus, $outcome: AmlOutcome, $rule: String) {
  amlAlerts(status: $status, outcome: $outcome, rule: $rule, first: 50) { edges { node {
    id score outcome status raisedAt version decisionReason
    player { id email firstName lastName }
    hits { rule kind weight figures eventIds }
    events { id type time data }
  } } } }`;
const AMOUNTS = new Set(["amount", "threshold", "floor", "total", "window_total", "average_per_window", "deposited",
  "wagered", "withdrawal"]);

function figure(name, value) {
  return AMOUNTS.has(name) ? `${(Number(value) / 100).toFixed(2)} EUR` : String(value);
}

class AmlAlerts extends QueryElement {
  static properties = { ...QueryElement.properties, message: { state: true }, problem: { state: true },
                        busy: { state: true }, open: { state: true } };
  query = QUEUE;
  emptyText = "No alert matches. The queue is clear.";
  filters = { status: "OPEN", outcome: "", rule: "" };

  get rootPath() {
    return ["amlAlerts"];
  }

  variables() {
    const { status, outcome, rule } = this.filters;
    return { status: status || null, outcome: outcome || null, rule: rule.trim() || null };
  }

  isEmpty(data) {
    return !data?.amlAlerts?.edges?.length;
  }

  filter(name, value) {
    this.filters = { ...this.filters, [name]: value };
    this.reload();
  }

  frame(body) {
    return html`<h2>AML alerts</h2>
      <div class="row" role="search">
        <label>Status <select aria-label="Status" @change=${(e) => this.filter("status", e.target.value)}>
          ${["OPEN", "CONFIRMED", "DISMISSED", ""].map((s) => html`<option value=${s} ?selected=${this.filters.status === s}>
            ${s ? words(s) : "any"}</option>`)}</select></label>
        <label>Outcome <select aria-label="Outcome" @change=${(e) => this.filter("outcome", e.target.value)}>
          ${["", "REVIEW", "BLOCK_AND_REVIEW", "DECLINE"].map((s) => html`<option value=${s}>${s ? words(s) : "any"}</option>`)}
        </select></label>
        <label>Rule <input aria-label="Rule" placeholder="e.g. structuring"
          @change=${(e) => this.filter("rule", e.target.value)}></label>
      </div>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    const decide = viewer.can("Mutation.decideAmlAlert");
    return html`<table>
      <thead><tr><th>Raised</th><th>Player</th><th>Outcome</th><th class="num">Score</th><th>Rules</th><th>Status</th>
        <th>Explanation</th>${decide ? html`<th>Decision</th>` : nothing}</tr></thead>
      <tbody>${data.amlAlerts.edges.map(({ node }) => html`<tr data-alert=${node.id}>
        <td>${when(node.raisedAt)}</td>
        <td><a href="#/players/${encodeURIComponent(node.player?.id ?? "")}">${playerName(node.player)}</a></td>
        <td>${badge(words(node.outcome))}</td><td class="num">${node.score}</td>
        <td>${node.hits.map((h) => h.rule).join(", ")}</td>
        <td>${badge(words(node.status))}${node.decisionReason ? html` <span>${node.decisionReason}</span>` : nothing}</td>
        <td><button @click=${() => { this.open = this.open === node.id ? null : node.id; }}
          aria-expanded=${this.open === node.id}>Explain</button>
          ${this.open === node.id ? this.explanation(node) : nothing}</td>
        ${decide ? html`<td>${node.status === "OPEN" ? html`<div class="row">
          <input aria-label="Reason" placeholder="Reason" data-reason=${node.id}>
          <button class="danger" ?disabled=${this.busy} @click=${() => this.decide(node, "CONFIRMED")}>Confirm</button>
          <button ?disabled=${this.busy} @click=${() => this.decide(node, "DISMISSED")}>Dismiss</button>
        </div>` : nothing}</td>` : nothing}
      </tr>`)}</tbody></table>`;
  }

  explanation(alert) {
    return html`<div class="explanation" aria-label="Explanation">
      <p>Version ${alert.version}: score ${alert.score}.</p>
      <ul>${alert.hits.map((hit) => html`<li><strong>${hit.rule}</strong> (${words(hit.kind)}, weight ${hit.weight}):
        ${Object.entries(hit.figures).map(([name, value]) => `${words(name)} ${figure(name, value)}`).join("; ")}</li>`)}</ul>
      <table><thead><tr><th>Event</th><th>Type</th><th>Time</th><th class="num">Amount</th></tr></thead>
        <tbody>${alert.events.map((e) => html`<tr><td>${e.id}</td><td>${e.type}</td><td>${when(e.time)}</td>
          <td class="num">${e.data.amount !== undefined ? `${(e.data.amount / 100).toFixed(2)} ${e.data.currency}` : ""}</td>
        </tr>`)}</tbody></table></div>`;
  }

  async decide(alert, decision) {
    const reason = this.renderRoot.querySelector(`[data-reason="${alert.id}"]`)?.value ?? "";
    if (!reason.trim()) {
      this.problem = "Give a reason for the decision.";
      return;
    }
    this.busy = true;
    this.message = "";
    try {
      const result = await client.mutate(`mutation($input: DecideAmlAlertInput!) { decideAmlAlert(input: $input) {
        alert { id status } errors { code field message } } }`, { input: { alertId: alert.id, decision, reason } });
      this.problem = mutationProblem(result, "decideAmlAlert");
      if (!this.problem) this.message = `Alert on ${playerName(alert.player)} ${decision === "CONFIRMED" ? "confirmed" : "dismissed"}.`;
      await this.reload();
    } finally {
      this.busy = false;
    }
  }
}

customElements.define("cr-aml-alerts", AmlAlerts);
