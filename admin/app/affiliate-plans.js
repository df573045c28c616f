/**
 * Affiliate plans and deals (docs/affiliate-plans.md): the plans with their terms and the form that makes one
 * (`createAffiliatePlan`: CPA, revenue share flat / tiered / ladder, or both; never edited afterwards), and the
 * deals of a partner with the form that puts it on a plan for a brand from a day on (`createAffiliateDeal`, never
 * in the past) and the cancel of a deal not yet begun. Rates are typed in percent and sent in parts per million.
 */
import { html, nothing } from "lit";
import { QueryElement, client, money, mutationProblem, viewer, words } from "./ui.js";

const PLANS = `query AffiliatePlans($first: Int) { affiliatePlans(first: $first) { edges { node {
  id code name kind currency secondTierPpm
  cpa { amount { amount currency } minFirstDeposit { amount currency } minWagering { amount currency } withinDays }
  revshare { kind tiers { fromNgr { amount currency } ratePpm } }
} } } }`;
const CREATE_PLAN = `mutation CreateAffiliatePlan($input: CreateAffiliatePlanInput!) { createAffiliatePlan(input: $input) {
  plan { id code } errors { code field message } } }`;
const DEALS = `query AffiliateDeals($partner: String, $first: Int) { affiliateDeals(affiliateCode: $partner, first: $first) {
  edges { node { id affiliateCode brandCode effectiveFrom effectiveUntil negativeCarryOver inForce plan { code name } } }
} }`;
const CREATE_DEAL = `mutation CreateAffiliateDeal($input: CreateAffiliateDealInput!) { createAffiliateDeal(input: $input) {
  deal { id affiliateCode effectiveFrom plan { code } } errors { code field message } } }`;
const CANCEL_DEAL = `mutation CancelAffiliateDeal($input: CancelAffiliateDealInput!) { cancelAffiliateDeal(input: $input) {
  deal { id } errors { code field message } } }`;

const KINDS = ["CPA", "REVSHARE", "HYBRID"];
const SHARES = ["FLAT", "TIERED", "LADDER"];

/** "25" or "2.5" percent as parts per million (an integer), or NaN. */
function ppm(percent) {
  const text = String(percent ?? "").trim();
  if (!/^\d+(\.\d{1,4})?$/.test(text)) return Number.NaN;
  const [whole, fraction = ""] = text.split(".");
  return Number(whole) * 10000 + Number(fraction.padEnd(4, "0"));
}

function percent(ratePpm) {
  return `${(ratePpm / 10000).toLocaleString("en-GB", { maximumFractionDigits: 4 })} %`;
}

function today() {
  return new Date().toISOString().slice(0, 10); // the API's days are UTC days
}

function terms(plan) {
  const parts = [];
  if (plan.cpa) {
    const c = plan.cpa;
    parts.push(html`<div>CPA ${money(c.amount)}: first deposit ≥ ${money(c.minFirstDeposit)}, wagering ≥
      ${money(c.minWagering)} within ${c.withinDays} days</div>`);
  }
  if (plan.revshare) {
    const r = plan.revshare;
    parts.push(html`<div>Revenue share, ${words(r.kind)}: ${r.tiers.map((t, i) => html`${i ? "; " : ""}${
      r.kind === "FLAT" ? "" : html`from ${money(t.fromNgr)} `}${percent(t.ratePpm)}`)}</div>`);
  }
  if (plan.secondTierPpm) parts.push(html`<div>Second tier ${percent(plan.secondTierPpm)}</div>`);
  return parts;
}

class AffiliatePlans extends QueryElement {
  static properties = { ...QueryElement.properties, creating: { state: true }, kind: { state: true },
                        share: { state: true }, problem: { state: true }, message: { state: true },
                        busy: { state: true } };
  query = PLANS;
  emptyText = "No plan yet.";

  constructor() {
    super();
    this.kind = "CPA"; // reactive properties get their first values here, not as class fields (which hide them)
    this.share = "FLAT";
  }

  get rootPath() {
    return ["affiliatePlans"];
  }

  variables() {
    return { first: 100 };
  }

  isEmpty(data) {
    return !data?.affiliatePlans?.edges?.length;
  }

  frame(body) {
    return html`<section aria-label="Plans"><h2>Affiliate plans</h2>
      <div class="row">${viewer.can("Mutation.createAffiliatePlan") ? html`<button class="primary"
        aria-expanded=${Boolean(this.creating)} @click=${() => { this.creating = !this.creating; }}>New plan</button>`
        : nothing}</div>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.creating ? this.form() : nothing}
      <div class="card">${body}</div></section>`;
  }

  renderData(data) {
    return html`<table>
      <thead><tr><th>Code</th><th>Name</th><th>Kind</th><th>Currency</th><th>Terms</th></tr></thead>
      <tbody>${data.affiliatePlans.edges.map(({ node }) => html`<tr data-plan=${node.code}>
        <td>${node.code}</td><td>${node.name}</td><td>${words(node.kind)}</td><td>${node.currency}</td>
        <td>${terms(node)}</td></tr>`)}</tbody></table>`;
  }

  form() {
    const cpa = this.kind !== "REVSHARE";
    const share = this.kind !== "CPA";
    return html`<form class="card" aria-label="New plan" style="margin-bottom:1rem"
        @submit=${(e) => { e.preventDefault(); this.create(new FormData(e.target)); }}>
      <div class="row">
        <label>Code <input name="code" required maxlength="40"></label>
        <label>Name <input name="name" required maxlength="120"></label>
        <label>Currency <input name="currency" value="EUR" size="5" required></label>
        <label>Kind <select name="kind" aria-label="Kind" @change=${(e) => { this.kind = e.target.value; }}>
          ${KINDS.map((k) => html`<option value=${k} ?selected=${k === this.kind}>${words(k)}</option>`)}</select></label>
        <label>Second tier (%) <input name="secondTier" value="0" size="6"></label>
      </div>
      ${cpa ? html`<fieldset class="row"><legend>CPA</legend>
        <label>CPA amount <input name="amount" placeholder="50.00" size="9" required></label>
        <label>Minimum first deposit <input name="minFirstDeposit" placeholder="20.00" size="9" required></label>
        <label>Minimum wagering <input name="minWagering" placeholder="100.00" size="9" required></label>
        <label>Within days <input name="withinDays" type="number" min="1" max="365" value="30" size="4"></label>
      </fieldset>` : nothing}
      ${share ? html`<fieldset class="row"><legend>Revenue share</legend>
        <label>Share <select name="share" aria-label="Share" @change=${(e) => { this.share = e.target.value; }}>
          ${SHARES.map((s) => html`<option value=${s} ?selected=${s === this.share}>${words(s)}</option>`)}</select></label>
        ${this.share === "FLAT"
          ? html`<label>Rate (%) <input name="rate" size="6" required></label>`
          : html`<label>Tiers (NGR from: %, one per line) <textarea name="tiers" rows="3" required
              placeholder=${"0: 25\n10000.00: 30"}></textarea></label>`}
      </fieldset>` : nothing}
      <div class="row"><button class="primary" type="submit" ?disabled=${this.busy}>Create plan</button></div>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
    </form>`;
  }

  async create(form) {
    const text = (name) => String(form.get(name) ?? "").trim();
    const input = { code: text("code"), name: text("name"), currency: text("currency").toUpperCase(),
                    kind: text("kind"), secondTierPpm: ppm(text("secondTier") || "0") };
    if (input.kind !== "REVSHARE") {
      input.cpa = { amount: text("amount"), minFirstDeposit: text("minFirstDeposit"),
                    minWagering: text("minWagering"), withinDays: Number(text("withinDays")) };
    }
    if (input.kind !== "CPA") {
      const kind = text("share");
      input.revshare = kind === "FLAT" ? { kind, ratePpm: ppm(text("rate")) } : {
        kind,
        tiers: text("tiers").split("\n").map((l) => l.trim()).filter(Boolean).map((line) => {
          const [from, rate] = line.split(":").map((s) => s.trim());
          return { fromNgr: from, ratePpm: ppm(rate) };
        }),
      };
    }
    const rates = [input.secondTierPpm, input.revshare?.ratePpm, ...(input.revshare?.tiers ?? []).map((t) => t.ratePpm)];
    if (rates.some((r) => r !== undefined && Number.isNaN(r))) {
      this.problem = "Rates are percentages such as 25 or 2.5.";
      return;
    }
    this.busy = true;
    this.problem = "";
    try {
      const result = await client.mutate(CREATE_PLAN, { input });
      this.problem = mutationProblem(result, "createAffiliatePlan");
      if (!this.problem) {
        this.creating = false;
        this.message = `Plan ${result.data.createAffiliatePlan.plan.code} created.`;
        await this.reload();
      }
    } finally {
      this.busy = false;
    }
  }
}

customElements.define("cr-affiliate-plans", AffiliatePlans);

class AffiliateDeals extends QueryElement {
  static properties = { ...QueryElement.properties, partner: { state: true }, plans: { state: true },
                        creating: { state: true }, problem: { state: true }, message: { state: true },
                        busy: { state: true } };
  query = DEALS;
  emptyText = "No deal matches.";

  constructor() {
    super();
    this.partner = "";
    this.plans = [];
  }

  get rootPath() {
    return ["affiliateDeals"];
  }

  variables() {
    return { partner: this.partner || null, first: 100 };
  }

  isEmpty(data) {
    return !data?.affiliateDeals?.edges?.length;
  }

  async loadPlans() {
    const result = await client.query(PLANS, { first: 100 });
    this.plans = (result.data?.affiliatePlans?.edges ?? []).map((e) => e.node);
  }

  frame(body) {
    return html`<section aria-label="Deals"><h2>Deals</h2>
      <div class="row" role="search">
        <label>Partner code <input aria-label="Partner code" .value=${this.partner}
          @change=${(e) => { this.partner = e.target.value.trim(); this.reload(); }}></label>
        ${viewer.can("Mutation.createAffiliateDeal") ? html`<button class="primary" aria-expanded=${Boolean(this.creating)}
          @click=${async () => { this.creating = !this.creating; if (this.creating) await this.loadPlans(); }}>New deal</button>`
          : nothing}
      </div>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem && !this.creating ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${this.creating ? this.form() : nothing}
      <div class="card">${body}</div></section>`;
  }

  renderData(data) {
    const cancel = viewer.can("Mutation.cancelAffiliateDeal");
    return html`<table>
      <thead><tr><th>Partner</th><th>Brand</th><th>Plan</th><th>From</th><th>Until</th><th>Negative carry-over</th>
        <th>In force</th><th></th></tr></thead>
      <tbody>${data.affiliateDeals.edges.map(({ node }) => html`<tr data-deal=${node.id}>
        <td>${node.affiliateCode}</td><td>${node.brandCode}</td><td>${node.plan.code}</td>
        <td>${node.effectiveFrom}</td><td>${node.effectiveUntil ?? "—"}</td>
        <td>${node.negativeCarryOver ? "yes" : "no"}</td>
        <td>${node.inForce ? html`<span class="badge good">in force</span>` : nothing}</td>
        <td>${cancel && node.effectiveFrom > today() ? html`<button @click=${() => this.cancel(node)}>Cancel deal</button>`
          : nothing}</td></tr>`)}</tbody></table>`;
  }

  form() {
    return html`<form class="card" aria-label="New deal" style="margin-bottom:1rem"
        @submit=${(e) => { e.preventDefault(); this.create(new FormData(e.target)); }}>
      <div class="row">
        <label>Partner <input name="affiliateCode" required maxlength="40" .value=${this.partner}></label>
        <label>Brand <input name="brandCode" required maxlength="40"
          .value=${viewer.staff?.roles?.find((r) => r.brand)?.brand.code ?? ""}></label>
        <label>Plan <select name="planId" aria-label="Plan" required>${this.plans.map((p) => html`<option value=${p.id}>${`${p.code} — ${p.name}`}</option>`)}</select></label>
        <label>From (UTC day) <input name="effectiveFrom" type="date" required .value=${today()}></label>
        <label><input name="negativeCarryOver" type="checkbox"> Negative carry-over</label>
        <label>Reason <input name="reason" maxlength="500"></label>
        <button class="primary" type="submit" ?disabled=${this.busy}>Create deal</button>
      </div>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
    </form>`;
  }

  async create(form) {
    const text = (name) => String(form.get(name) ?? "").trim();
    const input = { affiliateCode: text("affiliateCode"), brandCode: text("brandCode"), planId: text("planId"),
                    effectiveFrom: text("effectiveFrom"), negativeCarryOver: form.get("negativeCarryOver") === "on",
                    reason: text("reason") || null };
    this.busy = true;
    this.problem = "";
    try {
      const result = await client.mutate(CREATE_DEAL, { input });
      this.problem = mutationProblem(result, "createAffiliateDeal");
      if (!this.problem) {
        const deal = result.data.createAffiliateDeal.deal;
        this.creating = false;
        this.message = `Deal made: ${deal.affiliateCode} on ${deal.plan.code} from ${deal.effectiveFrom}.`;
        await this.reload();
      }
    } finally {
      this.busy = false;
    }
  }

  async cancel(deal) {
    const result = await client.mutate(CANCEL_DEAL, { input: { dealId: deal.id } });
    this.problem = mutationProblem(result, "cancelAffiliateDeal");
    this.message = this.problem ? "" : `Deal from ${deal.effectiveFrom} cancelled.`;
    await this.reload();
  }
}

customElements.define("cr-affiliate-deals", AffiliateDeals);
