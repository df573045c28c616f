/**
 * Affiliate fraud: the partners' sub-ids the sweep flagged (linked accounts, deposits without play, one
 * device), each with its evidence. A flag's page adds the CPAs of the sub-id's players; the risk desk
 * clears it (a false positive: the withheld CPAs are qualified again) or confirms it (fraud: they are
 * rejected), with a note that the audit log keeps (services/affiliates/fraud_review.py).
 */
import { html, nothing } from "lit";
import { QueryElement, client, mutationProblem, viewer, when } from "./ui.js";

const CHECKS = {
  linked_accounts: "Linked accounts",
  one_device: "One device",
  deposit_and_leave: "Deposit and leave",
  withheld_unreviewed: "CPA withheld, not reviewed",
};

const subId = (flag) => (flag.subId === "" ? "(no sub-id)" : flag.subId);

function evidence(flag) {
  return flag.evidence.map((e) => html`
    <h4>${CHECKS[e.reason] ?? e.reason}</h4>
    <p class="muted">${e.detail}</p>
    <table><thead><tr><th>Player</th><th>What the check saw</th></tr></thead><tbody>
      ${e.players.map((p) => html`<tr>
        <td><a href="#/players/${encodeURIComponent(p.playerId)}">${p.player?.email ?? p.playerId}</a></td>
        <td>${p.detail}</td></tr>`)}
    </tbody></table>`);
}

class AffiliateFraudFlags extends QueryElement {
  static properties = { ...QueryElement.properties, status: { state: true } };
  query = `query AffiliateFraudFlags($status: AffiliateSubIdFlagStatus) {
    affiliateSubIdFlags(status: $status, first: 50) { edges { node {
      id affiliateCode subId status reasons playerCount withheld raisedAt reviewedAt reviewNote } } } }`;
  emptyText = "No flagged sub-id.";

  constructor() {
    super();
    this.status = "OPEN";
  }

  get rootPath() {
    return ["affiliateSubIdFlags"];
  }

  variables() {
    return { status: this.status };
  }

  isEmpty(data) {
    return !data.affiliateSubIdFlags.edges.length;
  }

  frame(body) {
    return html`<h2>Affiliate fraud</h2>
      <div class="row"><label>Status <select aria-label="Status" @change=${(e) => { this.status = e.target.value; this.reload(); }}>
        ${["OPEN", "CLEARED", "CONFIRMED"].map((s) => html`<option value=${s} ?selected=${s === this.status}>${s.toLowerCase()}</option>`)}
      </select></label></div>${body}`;
  }

  renderData(data) {
    return html`<table><thead><tr><th>Partner</th><th>Sub-id</th><th>Checks</th><th>Players</th>
      <th>CPAs withheld</th><th>Raised</th><th>Status</th></tr></thead><tbody>
      ${data.affiliateSubIdFlags.edges.map(({ node: f }) => html`<tr>
        <td>${f.affiliateCode}</td>
        <td><a href="#/affiliate-fraud/${encodeURIComponent(f.id)}">${subId(f)}</a></td>
        <td>${f.reasons.map((r) => CHECKS[r] ?? r).join(", ")}</td>
        <td>${f.playerCount}</td><td>${f.withheld}</td><td>${when(f.raisedAt)}</td>
        <td><span class="badge ${f.status === "open" ? "warn" : ""}">${f.status}</span></td></tr>`)}
    </tbody></table>`;
  }
}

class AffiliateFraudFlag extends QueryElement {
  static properties = {
    ...QueryElement.properties,
    flagId: {},
    note: { state: true },
    message: { state: true },
    problem: { state: true },
  };
  query = `query AffiliateFraudFlag($id: ID!) { affiliateSubIdFlag(id: $id) {
    id affiliateCode subId status reasons playerCount withheld raisedAt reviewedAt reviewNote released rejected
    evidence { reason detail players { playerId detail player { id email } } }
    cpas { playerId status amount { amount currency } qualifiedAt reason } } }`;

  constructor() {
    super();
    this.note = "";
  }

  get rootPath() {
    return ["affiliateSubIdFlag"];
  }

  variables() {
    return { id: this.flagId };
  }

  frame(body) {
    return html`<p><a href="#/affiliate-fraud">← Flagged sub-ids</a></p>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}${body}`;
  }

  renderData(data) {
    const f = data.affiliateSubIdFlag;
    if (!f) return html`<p class="state">No such flag.</p>`;
    const open = f.status === "open";
    const review = open && viewer.can("Mutation.reviewAffiliateSubIdFlag");
    return html`<section class="card" aria-label="Flag of ${f.affiliateCode} ${subId(f)}">
      <h2>${f.affiliateCode} · ${subId(f)} <span class="badge ${open ? "warn" : ""}">${f.status}</span></h2>
      <p class="muted">Raised ${when(f.raisedAt)} · ${f.playerCount} player(s) named · ${f.withheld} CPA(s) withheld
        ${f.reviewedAt ? html` · reviewed ${when(f.reviewedAt)}: “${f.reviewNote}”
          (${f.released != null ? `${f.released} qualified again` : `${f.rejected} rejected`})` : nothing}</p>
      ${evidence(f)}
      <h3>CPAs of the sub-id's players</h3>
      ${f.cpas.length ? html`<table><thead><tr><th>Player</th><th>Status</th><th>Amount</th><th>Qualified</th><th>Why</th></tr></thead><tbody>
        ${f.cpas.map((c) => html`<tr><td><a href="#/players/${encodeURIComponent(c.playerId)}">${c.playerId}</a></td>
          <td>${c.status}</td><td>${c.amount.amount} ${c.amount.currency}</td><td>${when(c.qualifiedAt)}</td>
          <td>${c.reason ?? ""}</td></tr>`)}</tbody></table>` : html`<p class="muted">No CPA yet.</p>`}
      ${review ? html`<div class="row" style="margin-top:.75rem">
        <label>Note <input aria-label="Note" .value=${this.note} @input=${(e) => { this.note = e.target.value; }}></label>
        <button @click=${() => this.review("CLEARED")}>Clear (qualify the CPAs)</button>
        <button class="danger" @click=${() => this.review("CONFIRMED")}>Confirm fraud (reject the CPAs)</button>
      </div>` : nothing}
    </section>`;
  }

  async review(verdict) {
    const result = await client.mutate(`mutation ReviewAffiliateSubIdFlag($input: ReviewAffiliateSubIdFlagInput!) {
      reviewAffiliateSubIdFlag(input: $input) { flag { id status released rejected } errors { code field message } } }`,
    { input: { flagId: this.flagId, verdict, note: this.note } });
    this.problem = mutationProblem(result, "reviewAffiliateSubIdFlag");
    const flag = result.data?.reviewAffiliateSubIdFlag?.flag;
    this.message = this.problem || !flag ? "" : verdict === "CLEARED"
      ? `Cleared: ${flag.released} CPA(s) qualified again.` : `Confirmed: ${flag.rejected} CPA(s) rejected.`;
    if (!this.problem) this.note = "";
    await this.reload();
  }
}

customElements.define("cr-affiliate-fraud-flags", AffiliateFraudFlags);
customElements.define("cr-affiliate-fraud-flag", AffiliateFraudFlag);
