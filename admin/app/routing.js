/**
 * Payment routing: the live routing version (rules and cascade, PSP terms, payment limits, BIN rules), forms that
 * store each edit as a new version with a reason, the history with a restore, and the preview of the route a
 * payment would take. Finance of every brand edits (the server refuses others and says why); the risk desk reads.
 */
import { html, nothing } from "lit";
import { QueryElement, client, runStep, viewer, when } from "./ui.js";

const VERSION = `query Routing { routingVersion {
  version change reason createdAt
  rules { name psps weights priority kinds methods countries currencies binCountries minAmount maxAmount
    minRiskScore maxRiskScore fromHour toHour enabled }
  psps { psp enabled feePercent limits { currency minAmount maxAmount feeFixed } }
  limits { name kind currency methods maxAmount windowHours maxCount maxTotal minRiskScore enabled }
  binRules { name binFrom binTo country block reason onUnknown } }
  routingVersions(first: 20) { version change reason createdAt } }`;
const SAVE_RULE = `mutation($input: SaveRoutingRuleInput!) { saveRoutingRule(input: $input) {
  version { version } errors { code field message } } }`;
const SAVE_TERMS = `mutation($input: SaveRoutingPspTermsInput!) { saveRoutingPspTerms(input: $input) {
  version { version } errors { code field message } } }`;
const SAVE_LIMIT = `mutation($input: SaveRoutingLimitInput!) { saveRoutingLimit(input: $input) {
  version { version } errors { code field message } } }`;
const SAVE_BIN = `mutation($input: SaveRoutingBinRuleInput!) { saveRoutingBinRule(input: $input) {
  version { version } errors { code field message } } }`;
const DELETE = `mutation($input: DeleteRoutingEntryInput!) { deleteRoutingEntry(input: $input) {
  version { version } errors { code field message } } }`;
const RESTORE = `mutation($input: RestoreRoutingVersionInput!) { restoreRoutingVersion(input: $input) {
  version { version } errors { code field message } } }`;
const PREVIEW = `query RoutingPreview($input: RoutingPreviewInput!) { routingPreview(input: $input) {
  version psps { psp fee } decidedBy binCountry cardBlockedBy cardUnknownBy cardUnknownOutcome looks { rule matched mismatch chosen dropped } } }`;

const list = (value) => String(value ?? "").split(",").map((part) => part.trim()).filter(Boolean);
const upper = (value) => list(value).map((part) => part.toUpperCase());
const orNull = (items) => (items.length ? items : null);
const number = (value) => (value === null || value === "" ? null : Number(value));
const text = (value) => (value ? String(value) : null);
const joined = (items) => (items ? items.join(", ") : "any");

class Routing extends QueryElement {
  static properties = { ...QueryElement.properties, message: { state: true }, problem: { state: true },
                        busy: { state: true }, preview: { state: true } };
  query = VERSION;

  get rootPath() {
    return ["routingVersion"];
  }

  frame(body) {
    return html`<h2>Payment routing</h2>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${body}`;
  }

  renderData(data) {
    const live = data.routingVersion;
    const edit = viewer.can("Mutation.saveRoutingRule");
    return html`<p>Live: version <strong data-version>${live.version}</strong> — ${live.change}
        ${live.reason ? html`(${live.reason})` : nothing} ${live.createdAt ? when(live.createdAt) : ""}</p>
      ${this.previewForm()}
      <div class="card"><h3>Rules, lowest priority first (the first that matches decides)</h3>
      <table aria-label="Routing rules"><thead><tr><th>Name</th><th class="num">Priority</th><th>PSPs</th>
        <th>Conditions</th><th>State</th>${edit ? html`<th></th>` : nothing}</tr></thead>
      <tbody>${live.rules.map((r) => html`<tr data-rule=${r.name}><td>${r.name}</td><td class="num">${r.priority}</td>
        <td>${r.psps.join(" → ")}${r.weights.length ? html` <small>(weights ${r.weights.join("/")})</small>` : nothing}</td>
        <td><small>${this.conditions(r)}</small></td><td>${r.enabled ? "on" : "off"}</td>
        ${edit ? html`<td><button class="danger" ?disabled=${this.busy}
          @click=${() => this.remove("RULE", r.name)}>Delete</button></td>` : nothing}</tr>`)}</tbody></table>
      ${edit ? this.ruleForm() : nothing}</div>
      <div class="card"><h3>PSP terms</h3>
      <table aria-label="PSP terms"><thead><tr><th>PSP</th><th>Used</th><th class="num">Fee %</th><th>Limits</th></tr></thead>
      <tbody>${live.psps.map((p) => html`<tr><td>${p.psp}</td><td>${p.enabled ? "yes" : "no"}</td>
        <td class="num">${p.feePercent}</td><td><small>${p.limits.map((l) =>
          `${l.currency} ${l.minAmount ?? "0"}–${l.maxAmount ?? "∞"} + ${l.feeFixed ?? "0"}`).join("; ")}</small></td>
        </tr>`)}</tbody></table>
      ${edit ? this.termsForm() : nothing}</div>
      <div class="card"><h3>Payment limits</h3>
      <table aria-label="Payment limits"><thead><tr><th>Name</th><th>Applies to</th><th>Caps</th>
        ${edit ? html`<th></th>` : nothing}</tr></thead>
      <tbody>${live.limits.map((l) => html`<tr data-limit=${l.name}><td>${l.name}</td>
        <td><small>${l.kind.toLowerCase()} ${l.currency} by ${joined(l.methods)}${l.minRiskScore !== null
          ? `, risk score ≥ ${l.minRiskScore}` : ""}</small></td>
        <td><small>${[l.maxAmount ? `${l.maxAmount} a payment` : "", l.maxCount ? `${l.maxCount} in ${l.windowHours} h` : "",
          l.maxTotal ? `${l.maxTotal} in ${l.windowHours} h` : ""].filter(Boolean).join(", ")}</small></td>
        ${edit ? html`<td><button class="danger" ?disabled=${this.busy}
          @click=${() => this.remove("LIMIT", l.name)}>Delete</button></td>` : nothing}</tr>`)}</tbody></table>
      ${edit ? this.limitForm() : nothing}</div>
      <div class="card"><h3>Card BIN rules</h3>
      <table aria-label="BIN rules"><thead><tr><th>Name</th><th>BINs</th><th>Country</th><th>Blocks</th><th>BIN unknown</th>
        ${edit ? html`<th></th>` : nothing}</tr></thead>
      <tbody>${live.binRules.map((b) => html`<tr><td>${b.name}</td><td>${b.binFrom ? `${b.binFrom}–${b.binTo}` : "any"}</td>
        <td>${b.country ?? ""}</td><td>${b.block ? `yes ${b.reason}` : "no"}</td>
        <td>${b.block ? b.onUnknown.toLowerCase() : ""}</td>
        ${edit ? html`<td><button class="danger" ?disabled=${this.busy}
          @click=${() => this.remove("BIN_RULE", b.name)}>Delete</button></td>` : nothing}</tr>`)}</tbody></table>
      ${edit ? this.binForm() : nothing}</div>
      <div class="card"><h3>History</h3>
      <table aria-label="Routing history"><thead><tr><th class="num">Version</th><th>Change</th><th>Reason</th><th>When</th>
        ${edit ? html`<th></th>` : nothing}</tr></thead>
      <tbody>${data.routingVersions.map((v) => html`<tr><td class="num">${v.version}</td><td>${v.change}</td>
        <td>${v.reason}</td><td>${when(v.createdAt)}</td>
        ${edit ? html`<td>${v.version !== live.version ? html`<button ?disabled=${this.busy}
          @click=${() => this.restore(v.version)}>Restore</button>` : nothing}</td>` : nothing}</tr>`)}</tbody></table></div>`;
  }

  conditions(r) {
    const parts = [];
    if (r.kinds) parts.push(r.kinds.join("/").toLowerCase());
    if (r.methods) parts.push(r.methods.join("/").toLowerCase());
    if (r.countries) parts.push(`from ${r.countries.join(", ")}`);
    if (r.currencies) parts.push(`in ${r.currencies.join(", ")}`);
    if (r.binCountries) parts.push(`cards of ${r.binCountries.join(", ")}`);
    if (r.minAmount || r.maxAmount) parts.push(`amount ${r.minAmount ?? "0"}–${r.maxAmount ?? "∞"}`);
    if (r.minRiskScore !== null || r.maxRiskScore !== null) parts.push(`risk ${r.minRiskScore ?? 0}–${r.maxRiskScore ?? 100}`);
    if (r.fromHour !== null) parts.push(`${r.fromHour}:00–${r.toHour}:00 UTC`);
    return parts.join("; ") || "any payment";
  }

  ruleForm() {
    return html`<form class="row" aria-label="Save routing rule" @submit=${(e) => this.saveRule(e)}>
      <label>Name <input name="name" required></label>
      <label>PSPs, in order <input name="psps" required placeholder="swiftpay, cardpay"></label>
      <label>Weights <input name="weights" placeholder="3, 1"></label>
      <label>Priority <input name="priority" type="number" value="100"></label>
      <label>Methods <input name="methods" placeholder="card"></label>
      <label>Countries <input name="countries"></label>
      <label>Currencies <input name="currencies"></label>
      <label>BIN countries <input name="binCountries"></label>
      <label>Min amount <input name="minAmount"></label><label>Max amount <input name="maxAmount"></label>
      <label>Min risk <input name="minRiskScore" type="number"></label>
      <label>Max risk <input name="maxRiskScore" type="number"></label>
      <label>From hour <input name="fromHour" type="number"></label><label>To hour <input name="toHour" type="number"></label>
      <label>Reason <input name="reason" required></label>
      <button class="primary" ?disabled=${this.busy}>Save rule</button></form>`;
  }

  termsForm() {
    return html`<form class="row" aria-label="Save PSP terms" @submit=${(e) => this.saveTerms(e)}>
      <label>PSP <input name="psp" required></label>
      <label>Used <select name="enabled"><option value="yes">yes</option><option value="no">no</option></select></label>
      <label>Fee % <input name="feePercent" value="0"></label>
      <label>Currency <input name="currency"></label>
      <label>Min <input name="minAmount"></label><label>Max <input name="maxAmount"></label>
      <label>Fixed fee <input name="feeFixed"></label>
      <label>Reason <input name="reason" required></label>
      <button class="primary" ?disabled=${this.busy}>Save terms</button></form>`;
  }

  limitForm() {
    return html`<form class="row" aria-label="Save payment limit" @submit=${(e) => this.saveLimit(e)}>
      <label>Name <input name="name" required></label>
      <label>Kind <select name="kind"><option>DEPOSIT</option><option>WITHDRAWAL</option></select></label>
      <label>Currency <input name="currency" required value="EUR"></label>
      <label>Methods <input name="methods"></label>
      <label>Max a payment <input name="maxAmount"></label>
      <label>Window (hours) <input name="windowHours" type="number"></label>
      <label>Max count <input name="maxCount" type="number"></label>
      <label>Max total <input name="maxTotal"></label>
      <label>From risk score <input name="minRiskScore" type="number"></label>
      <label>Reason <input name="reason" required></label>
      <button class="primary" ?disabled=${this.busy}>Save limit</button></form>`;
  }

  binForm() {
    return html`<form class="row" aria-label="Save BIN rule" @submit=${(e) => this.saveBin(e)}>
      <label>Name <input name="name" required></label>
      <label>BIN from <input name="binFrom"></label><label>BIN to <input name="binTo"></label>
      <label>Country <input name="country"></label>
      <label>Block <select name="block"><option value="no">no</option><option value="yes">yes</option></select></label>
      <label>Why blocked <input name="ruleReason"></label>
      <label>BIN unknown <select name="onUnknown"><option value="REFUSE">refuse</option>
        <option value="REVIEW">hold for review</option><option value="ALLOW">allow</option></select></label>
      <label>Reason <input name="reason" required></label>
      <button class="primary" ?disabled=${this.busy}>Save BIN rule</button></form>`;
  }

  previewForm() {
    const found = this.preview;
    return html`<form class="card row" aria-label="Preview a route" @submit=${(e) => this.runPreview(e)}>
      <label>Kind <select name="kind"><option>DEPOSIT</option><option>WITHDRAWAL</option></select></label>
      <label>Method <select name="method"><option>CARD</option><option>EWALLET</option><option>BANK_TRANSFER</option></select></label>
      <label>Country <input name="country" value="MT" required></label>
      <label>Amount <input name="amount" value="50.00" required></label>
      <label>Currency <input name="currency" value="EUR" required></label>
      <label>Card BIN <input name="cardBin"></label>
      <label>Risk score <input name="riskScore" type="number"></label>
      <label>At (UTC) <input name="at" type="datetime-local"></label>
      <button ?disabled=${this.busy}>Preview route</button></form>
      ${found ? html`<div class="card" data-preview><p>Route: <strong>${found.psps.length
          ? found.psps.map((p) => `${p.psp} (fee ${p.fee})`).join(" → ") : "no PSP takes it"}</strong>
        ${found.decidedBy ? html` by rule ${found.decidedBy}` : nothing}
        ${found.binCountry ? html`; card of ${found.binCountry}` : nothing}
        ${found.cardBlockedBy ? html`; <span class="error">card refused by ${found.cardBlockedBy}</span>` : nothing}
        ${found.cardUnknownBy ? html`; <span class="error">BIN unknown to ${found.cardUnknownBy}:
          ${found.cardUnknownOutcome === "REVIEW" ? "held for review" : "refused"}</span>` : nothing}</p>
        <ul>${found.looks.map((look) => html`<li>${look.rule}: ${look.matched
          ? `matched${look.dropped.length ? `, dropped ${look.dropped.join("; ")}` : ""}` : look.mismatch}</li>`)}</ul></div>`
      : nothing}`;
  }

  fields(event) {
    event.preventDefault();
    return Object.fromEntries(new FormData(event.target).entries());
  }

  step(mutation, field, input, done) {
    return runStep(this, mutation, field, { input }, done);
  }

  saveRule(event) {
    const f = this.fields(event);
    const input = {
      name: f.name, psps: list(f.psps), weights: list(f.weights).map(Number), priority: Number(f.priority || 100),
      methods: orNull(upper(f.methods)), countries: orNull(upper(f.countries)), currencies: orNull(upper(f.currencies)),
      binCountries: orNull(upper(f.binCountries)), minAmount: text(f.minAmount), maxAmount: text(f.maxAmount),
      minRiskScore: number(f.minRiskScore), maxRiskScore: number(f.maxRiskScore), fromHour: number(f.fromHour),
      toHour: number(f.toHour), reason: f.reason,
    };
    return this.step(SAVE_RULE, "saveRoutingRule", input, `Rule ${f.name} saved as a new version.`);
  }

  saveTerms(event) {
    const f = this.fields(event);
    const limits = f.currency ? [{ currency: f.currency.toUpperCase(), minAmount: text(f.minAmount),
      maxAmount: text(f.maxAmount), feeFixed: text(f.feeFixed) }] : [];
    const input = { psp: f.psp, enabled: f.enabled === "yes", feePercent: f.feePercent || "0", limits, reason: f.reason };
    return this.step(SAVE_TERMS, "saveRoutingPspTerms", input, `Terms of ${f.psp} saved as a new version.`);
  }

  saveLimit(event) {
    const f = this.fields(event);
    const input = {
      name: f.name, kind: f.kind, currency: f.currency.toUpperCase(), methods: orNull(upper(f.methods)),
      maxAmount: text(f.maxAmount), windowHours: number(f.windowHours), maxCount: number(f.maxCount),
      maxTotal: text(f.maxTotal), minRiskScore: number(f.minRiskScore), reason: f.reason,
    };
    return this.step(SAVE_LIMIT, "saveRoutingLimit", input, `Limit ${f.name} saved as a new version.`);
  }

  saveBin(event) {
    const f = this.fields(event);
    const input = {
      name: f.name, binFrom: text(f.binFrom), binTo: text(f.binTo), country: text(f.country?.toUpperCase()),
      block: f.block === "yes", ruleReason: text(f.ruleReason), reason: f.reason,
      onUnknown: f.block === "yes" ? f.onUnknown : null,
    };
    return this.step(SAVE_BIN, "saveRoutingBinRule", input, `BIN rule ${f.name} saved as a new version.`);
  }

  remove(section, name) {
    const reason = window.prompt(`Why delete ${name}?`);
    if (!reason) return undefined;
    return this.step(DELETE, "deleteRoutingEntry", { section, name, reason }, `${name} deleted (a new version).`);
  }

  restore(version) {
    const reason = window.prompt(`Why restore version ${version}?`);
    if (!reason) return undefined;
    return this.step(RESTORE, "restoreRoutingVersion", { version, reason }, `Version ${version} restored as a new version.`);
  }

  async runPreview(event) {
    const f = this.fields(event);
    const input = {
      kind: f.kind, method: f.method, country: f.country.toUpperCase(), amount: f.amount,
      currency: f.currency.toUpperCase(), cardBin: text(f.cardBin), riskScore: number(f.riskScore),
      at: f.at ? `${f.at}:00Z` : null,
    };
    const result = await client.query(PREVIEW, { input });
    this.problem = result.failures[0]?.message ?? "";
    this.preview = result.data?.routingPreview ?? null;
  }
}

customElements.define("cr-routing", Routing);
