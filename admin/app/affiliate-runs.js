/**
 * Affiliate commission runs (docs/affiliate-commissions.md): the list by period with each run's totals, a run's
 * deal sums (NGR, carry-over in and out, tier and rate) and its lines (one per player per deal, and second-tier
 * lines), and finance's steps: make a run of a period, approve (a second approver above the threshold), discard a
 * draft, book it in the ledger, pay it out. Who may do what is the server's word (`viewer.can`).
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, money, mutationProblem, shortId, viewer, when, words } from "./ui.js";

const RUNS = `query AffiliateRuns {
  affiliateRuns(first: 50) { edges { node {
    id state periodStart periodEnd createdAt approvedAt bookedAt paidAt
    totals { total { amount currency } lines }
  } } } }`;
const RUN = `query AffiliateRun($id: ID!) {
  affiliateRun(id: $id) {
    id state
    deals { affiliateId dealId negativeCarryOver ngr { amount currency } carryIn { amount currency }
            base { amount currency } revshare { amount currency } carryOut { amount currency } tier ratePpm }
    payouts { affiliateId amount { amount currency } status psp failure paidAt }
  }
  affiliateRunLines(runId: $id, first: 100) { edges { node {
    kind affiliateId playerId subAffiliateId subId firstDay lastDay stakes { amount currency } wins { amount currency }
    bonusCost { amount currency } ngr { amount currency } playerCurrency fxRate tier ratePpm revshare { amount currency } cpa
    cpaAmount { amount currency } secondTierBase { amount currency } secondTier { amount currency }
    total { amount currency }
  } } }
}`;
const PAYLOAD = "run { id state } awaitingSecondApproval errors { code field message }";
const STEPS = {
  approve: ["approveAffiliateRun", "approved", `mutation ApproveAffiliateRun($input: AffiliateRunActionInput!) {
    approveAffiliateRun(input: $input) { ${PAYLOAD} } }`],
  discard: ["discardAffiliateRun", "discarded", `mutation DiscardAffiliateRun($input: AffiliateRunActionInput!) {
    discardAffiliateRun(input: $input) { ${PAYLOAD} } }`],
  book: ["bookAffiliateRun", "booked in the ledger", `mutation BookAffiliateRun($input: AffiliateRunActionInput!) {
    bookAffiliateRun(input: $input) { ${PAYLOAD} } }`],
  pay: ["payAffiliateRun", "paid out", `mutation PayAffiliateRun($input: AffiliateRunActionInput!) {
    payAffiliateRun(input: $input) { ${PAYLOAD} } }`],
};
const CREATE = `mutation CreateAffiliateRun($input: CreateAffiliateRunInput!) {
  createAffiliateRun(input: $input) { run { id state } errors { code field message } } }`;

function percent(ppm) {
  return ppm === null || ppm === undefined ? "—" : `${(ppm / 10_000).toFixed(2)} %`;
}

class AffiliateRuns extends QueryElement {
  static properties = { ...QueryElement.properties, message: { state: true }, problem: { state: true },
                        busy: { state: true }, open: { state: true }, detail: { state: true } };
  query = RUNS;
  emptyText = "No commission run yet.";

  get rootPath() {
    return ["affiliateRuns"];
  }

  isEmpty(data) {
    return !data?.affiliateRuns?.edges?.length;
  }

  frame(body) {
    return html`<h2>Commission runs</h2>
      ${viewer.can("Mutation.createAffiliateRun") ? html`<div class="row" role="form" aria-label="New run">
        <label>From <input type="date" aria-label="From" data-from></label>
        <label>To <input type="date" aria-label="To" data-to></label>
        <button class="primary" ?disabled=${this.busy} @click=${() => this.create()}>Make a run</button>
        <small>Empty: last calendar month.</small></div>` : nothing}
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    return html`<table>
      <thead><tr><th>Period</th><th>State</th><th class="num">Total</th><th class="num">Lines</th><th>Made</th>
        <th>Steps</th></tr></thead>
      <tbody>${data.affiliateRuns.edges.map(({ node }) => html`<tr data-run=${node.id}>
        <td>${node.periodStart} – ${node.periodEnd}</td><td>${badge(words(node.state))}</td>
        <td class="num">${node.totals.map((t) => html`<div>${money(t.total)}</div>`)}</td>
        <td class="num">${node.totals.reduce((n, t) => n + t.lines, 0)}</td><td>${when(node.createdAt)}</td>
        <td><div class="row">
          <button @click=${() => this.toggle(node)} aria-expanded=${this.open === node.id}>Lines</button>
          ${this.steps(node)}</div></td>
      </tr>${this.open === node.id ? html`<tr><td colspan="6">${this.lines()}</td></tr>` : nothing}`)}</tbody>
    </table>`;
  }

  steps(run) {
    const offer = { DRAFT: ["approve", "discard"], APPROVED: ["book"], BOOKED: ["pay"] }[run.state] ?? [];
    return offer.filter((name) => viewer.can(`Mutation.${STEPS[name][0]}`)).map((name) => html`<button
      class=${name === "discard" ? "danger" : "primary"} ?disabled=${this.busy}
      @click=${() => this.act(run, name)}>${name[0].toUpperCase()}${name.slice(1)}</button>`);
  }

  async toggle(run) {
    if (this.open === run.id) {
      this.open = null;
      return;
    }
    this.open = run.id;
    this.detail = undefined;
    const result = await client.query(RUN, { id: run.id });
    if (this.open === run.id) this.detail = result.data ?? null;
  }

  lines() {
    const d = this.detail;
    if (d === undefined) return html`<p class="state">Loading…</p>`;
    if (!d?.affiliateRun) return html`<p class="state">Not shown to your role.</p>`;
    const lines = d.affiliateRunLines?.edges ?? [];
    return html`<div aria-label="Run detail">
      <h3>Deals</h3>
      <table aria-label="Deals"><thead><tr><th>Partner</th><th class="num">NGR</th><th class="num">Carry in</th>
        <th class="num">Base</th><th>Tier</th><th class="num">Rate</th><th class="num">Revenue share</th>
        <th class="num">Carry out</th></tr></thead>
        <tbody>${d.affiliateRun.deals.map((s) => html`<tr>
          <td>${shortId(s.affiliateId)}</td><td class="num">${money(s.ngr)}</td><td class="num">${money(s.carryIn)}</td>
          <td class="num">${money(s.base)}</td><td>${s.tier ?? "—"}</td><td class="num">${percent(s.ratePpm)}</td>
          <td class="num">${money(s.revshare)}</td><td class="num">${money(s.carryOut)}</td></tr>`)}</tbody></table>
      <h3>Lines</h3>
      <table aria-label="Lines"><thead><tr><th>Kind</th><th>Partner</th><th>Player / sub-partner</th><th>Sub-id</th>
        <th>Days</th><th class="num">Stakes</th><th class="num">Wins</th><th class="num">Bonus cost</th>
        <th class="num">NGR</th><th class="num">Rate</th><th class="num">Revenue share</th><th class="num">CPA</th>
        <th class="num">Second tier</th><th class="num">Total</th></tr></thead>
        <tbody>${lines.map(({ node: l }) => html`<tr>
          <td>${words(l.kind)}</td><td>${shortId(l.affiliateId)}</td>
          <td>${l.playerId ? html`<a href="#/players/${encodeURIComponent(l.playerId)}">${shortId(l.playerId)}</a>`
                            : shortId(l.subAffiliateId)}</td>
          <td>${l.subId ?? "—"}</td><td>${l.firstDay ? `${l.firstDay} – ${l.lastDay}` : "—"}</td>
          <td class="num">${money(l.stakes)}</td><td class="num">${money(l.wins)}</td>
          <td class="num">${money(l.bonusCost)}</td><td class="num">${money(l.ngr)}${l.fxRate ? html`<br><small>at ${l.fxRate} per ${l.playerCurrency}</small>` : ""}</td>
          <td class="num">${percent(l.ratePpm)}</td><td class="num">${money(l.revshare)}</td>
          <td class="num">${l.cpa ? money(l.cpaAmount) : "—"}</td>
          <td class="num">${l.kind === "second_tier" ? `${money(l.secondTier)} of ${money(l.secondTierBase)}` : "—"}</td>
          <td class="num">${money(l.total)}</td></tr>`)}</tbody></table>
      ${d.affiliateRun.payouts.length ? html`<h3>Payouts</h3>
        <table aria-label="Payouts"><thead><tr><th>Partner</th><th class="num">Amount</th><th>Status</th><th>PSP</th>
          <th>Paid</th></tr></thead>
          <tbody>${d.affiliateRun.payouts.map((p) => html`<tr><td>${shortId(p.affiliateId)}</td>
            <td class="num">${money(p.amount)}</td><td>${badge(words(p.status))} ${p.failure ?? ""}</td>
            <td>${p.psp ?? "—"}</td><td>${when(p.paidAt)}</td></tr>`)}</tbody></table>` : nothing}
    </div>`;
  }

  async create() {
    const from = this.renderRoot.querySelector("[data-from]")?.value || null;
    const to = this.renderRoot.querySelector("[data-to]")?.value || null;
    await this.run(CREATE, "createAffiliateRun", { from, to }, () => "Run made (draft).");
  }

  async act(run, name) {
    const [field, done, mutation] = STEPS[name];
    await this.run(mutation, field, { runId: run.id }, (data) =>
      data?.[field]?.awaitingSecondApproval
        ? "First approval recorded: a second finance approver completes it."
        : `Run of ${run.periodStart} – ${run.periodEnd} ${done}.`);
  }

  async run(mutation, field, input, said) {
    this.busy = true;
    this.message = "";
    this.problem = "";
    try {
      const result = await client.mutate(mutation, { input });
      this.problem = mutationProblem(result, field);
      if (!this.problem) this.message = said(result.data);
      this.open = null;
      await this.reload();
    } finally {
      this.busy = false;
    }
  }
}

customElements.define("cr-affiliate-runs", AffiliateRuns);
