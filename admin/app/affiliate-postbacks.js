/**
 * Affiliate postbacks: a partner's configs (trigger, method, URL template with macros, brand, on or off), its
 * signing secret (shown once when made or rotated, then only its first characters), and the delivery log with
 * every try (time, HTTP status, latency, error) and "Retry now" for a waiting or failed postback. Roles that may
 * only read the log (support, finance) see it without URLs; the rest of the screen is not drawn for them.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, mutationProblem, viewer, when, words } from "./ui.js";

const CONFIGS = `query PostbackConfigs($partner: String) {
  affiliatePostbackConfigs(partnerCode: $partner, first: 100) { edges { node {
    id partnerCode trigger method urlTemplate active brandId updatedAt } } } }`;
const LOG = `query PostbackLog($partner: String, $status: AffiliatePostbackStatus) {
  affiliatePostbackDeliveries(partnerCode: $partner, status: $status, first: 50) { edges { node {
    id partnerCode eventId trigger status attempts maxAttempts eventAt nextAttemptAt deliveredAt lastError url
    tries { attempt startedAt httpStatus latencyMs succeeded error } } } } }`;
const SECRET = `query PostbackSecret($partner: String!) { affiliatePostbackSecret(partnerCode: $partner) {
  fingerprint rotatedAt } }`;
const CREATE = `mutation($input: CreateAffiliatePostbackConfigInput!) { createAffiliatePostbackConfig(input: $input) {
  config { id } secret errors { code field message } } }`;
const UPDATE = `mutation($input: UpdateAffiliatePostbackConfigInput!) { updateAffiliatePostbackConfig(input: $input) {
  config { id active } errors { code field message } } }`;
const ROTATE = `mutation($input: RotateAffiliatePostbackSecretInput!) { rotateAffiliatePostbackSecret(input: $input) {
  secret errors { code field message } } }`;
const RETRY = `mutation($input: RetryAffiliatePostbackInput!) { retryAffiliatePostback(input: $input) {
  delivery { id status } errors { code field message } } }`;
const MACROS = "{click_id} {sub1}…{sub5} {player_ref} {event} {amount} {currency} {event_id}";

/** The screen: a partner filter over the configs and the log. */
class AffiliatePostbacks extends QueryElement {
  static properties = { ...QueryElement.properties, partner: { state: true }, message: { state: true },
                        problem: { state: true }, secret: { state: true }, busy: { state: true } };
  query = CONFIGS;
  emptyText = "No postback configured.";
  partner = "";

  get rootPath() {
    return ["affiliatePostbackConfigs"];
  }

  variables() {
    return { partner: this.partner || null };
  }

  isEmpty(data) {
    return !data?.affiliatePostbackConfigs?.edges?.length;
  }

  choose(code) {
    this.partner = code.trim().toLowerCase();
    this.secret = null;
    this.reload();
    this.renderRoot.querySelector("cr-postback-log")?.show(this.partner);
  }

  render() {
    return html`<h2>Affiliate postbacks</h2>
      <form class="row" role="search" @submit=${(e) => { e.preventDefault(); this.choose(e.target.partner.value); }}>
        <label>Partner code <input name="partner" aria-label="Partner code" placeholder="every partner"></label>
        <button type="submit">Show</button>
      </form>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${this.secret ? html`<p class="ok" role="status" aria-label="New secret">Signing secret of ${this.secret.partner},
        shown once — give it to the partner now: <code>${this.secret.value}</code></p>` : nothing}
      ${this.hidden ? nothing : html`<h3>Configs</h3><div class="card">${this.body()}</div>${this.form()}`}
      <h3>Delivery log</h3>
      <cr-postback-log .partner=${this.partner} @changed=${() => this.reload()}></cr-postback-log>`;
  }

  renderData(data) {
    const change = viewer.can("Mutation.updateAffiliatePostbackConfig");
    return html`<table aria-label="Postback configs">
      <thead><tr><th>Partner</th><th>Trigger</th><th>Method</th><th>URL template</th><th>State</th>
        ${change ? html`<th></th>` : nothing}</tr></thead>
      <tbody>${data.affiliatePostbackConfigs.edges.map(({ node }) => html`<tr data-config=${node.id}>
        <td>${node.partnerCode}</td><td>${words(node.trigger)}</td><td>${node.method}</td>
        <td><code>${node.urlTemplate}</code></td><td>${badge(node.active ? "ACTIVE" : "OFF")}</td>
        ${change ? html`<td><button ?disabled=${this.busy} @click=${() => this.toggle(node)}>
          ${node.active ? "Switch off" : "Switch on"}</button></td>` : nothing}
      </tr>`)}</tbody></table>`;
  }

  form() {
    const create = viewer.can("Mutation.createAffiliatePostbackConfig");
    const rotate = viewer.can("Mutation.rotateAffiliatePostbackSecret");
    if (!create && !rotate) return nothing;
    return html`${create ? html`<form class="card" aria-label="New postback" @submit=${(e) => this.create(e)}>
        <div class="row">
          <label>Partner <input name="partnerCode" required .value=${this.partner}></label>
          <label>Trigger <select name="trigger">${["REGISTRATION", "FIRST_DEPOSIT", "QUALIFICATION"].map(
            (t) => html`<option value=${t}>${words(t)}</option>`)}</select></label>
          <label>Method <select name="method"><option>GET</option><option>POST</option></select></label>
          <label>Brand <input name="brandCode" placeholder="every brand"></label>
        </div>
        <label>URL template <input name="urlTemplate" required size="80"
          placeholder="https://partner.example/pb?click={click_id}&event={event}"></label>
        <p><small>Macros: ${MACROS}</small></p>
        <button class="primary" type="submit" ?disabled=${this.busy}>Add postback</button>
      </form>` : nothing}
      ${rotate && this.partner ? html`<form class="row" aria-label="Rotate secret" @submit=${(e) => this.rotate(e)}>
        <input name="reason" aria-label="Why rotate" placeholder="Why rotate the secret" required>
        <button class="danger" type="submit" ?disabled=${this.busy}>Rotate ${this.partner}'s secret</button>
      </form>` : nothing}`;
  }

  async run(mutation, input, field) {
    this.busy = true;
    this.message = "";
    this.problem = "";
    try {
      const result = await client.mutate(mutation, { input });
      this.problem = mutationProblem(result, field);
      return this.problem ? null : result.data[field];
    } finally {
      this.busy = false;
    }
  }

  async create(event) {
    event.preventDefault();
    const form = event.target;
    const input = Object.fromEntries(new FormData(form));
    if (!input.brandCode) input.brandCode = null;
    const done = await this.run(CREATE, input, "createAffiliatePostbackConfig");
    if (!done) return;
    this.message = `Postback added for ${input.partnerCode}.`;
    this.secret = done.secret ? { partner: input.partnerCode, value: done.secret } : null;
    form.reset();
    await this.reload();
  }

  async toggle(config) {
    const done = await this.run(UPDATE, { configId: config.id, active: !config.active },
      "updateAffiliatePostbackConfig");
    if (done) this.message = `Postback ${done.config.active ? "switched on" : "switched off"}.`;
    await this.reload();
  }

  async rotate(event) {
    event.preventDefault();
    const done = await this.run(ROTATE, { partnerCode: this.partner, reason: event.target.reason.value },
      "rotateAffiliatePostbackSecret");
    if (!done) return;
    this.secret = { partner: this.partner, value: done.secret };
    event.target.reset();
  }
}

/** The delivery log: newest first, filtered by partner and status, each with its tries. */
class PostbackLog extends QueryElement {
  static properties = { ...QueryElement.properties, partner: {}, status: { state: true }, open: { state: true },
                        problem: { state: true }, fingerprint: { state: true } };
  query = LOG;
  emptyText = "No postback sent yet.";
  status = "";

  get rootPath() {
    return ["affiliatePostbackDeliveries"];
  }

  variables() {
    return { partner: this.partner || null, status: this.status || null };
  }

  isEmpty(data) {
    return !data?.affiliatePostbackDeliveries?.edges?.length;
  }

  async show(partner) {
    this.partner = partner;
    await this.reload();
    this.fingerprint = null;
    if (partner && viewer.can("Mutation.rotateAffiliatePostbackSecret")) {
      const result = await client.query(SECRET, { partner });
      this.fingerprint = result.data?.affiliatePostbackSecret ?? null;
    }
  }

  frame(body) {
    return html`<div class="row">
        <label>Status <select aria-label="Status" @change=${(e) => { this.status = e.target.value; this.reload(); }}>
          ${["", "PENDING", "SENDING", "DELIVERED", "FAILED"].map((s) => html`<option value=${s}>
            ${s ? words(s) : "any"}</option>`)}</select></label>
        <button @click=${() => this.reload()}>Refresh</button>
        ${this.fingerprint ? html`<span>Secret ${this.fingerprint.fingerprint}, since
          ${when(this.fingerprint.rotatedAt)}</span>` : nothing}
      </div>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    const retry = viewer.can("Mutation.retryAffiliatePostback");
    return html`<table aria-label="Postback deliveries">
      <thead><tr><th>Event</th><th>Partner</th><th>Trigger</th><th>Status</th><th class="num">Tries</th>
        <th>Last error</th><th>URL</th><th></th></tr></thead>
      <tbody>${data.affiliatePostbackDeliveries.edges.map(({ node }) => html`<tr data-delivery=${node.id}>
        <td>${when(node.eventAt)} <small>#${node.eventId}</small></td><td>${node.partnerCode}</td>
        <td>${words(node.trigger)}</td>
        <td>${badge(node.status)}${node.nextAttemptAt ? html` <small>next ${when(node.nextAttemptAt)}</small>` : nothing}</td>
        <td class="num">${node.attempts} / ${node.maxAttempts}</td><td>${node.lastError ?? ""}</td>
        <td>${node.url === null ? html`<small>not shown to your role</small>` : html`<code>${node.url}</code>`}</td>
        <td><button @click=${() => { this.open = this.open === node.id ? null : node.id; }}
            aria-expanded=${this.open === node.id}>Tries</button>
          ${retry && ["PENDING", "FAILED"].includes(node.status) ? html`<button class="primary"
            @click=${() => this.retry(node)}>Retry now</button>` : nothing}
          ${this.open === node.id ? this.tries(node) : nothing}</td>
      </tr>`)}</tbody></table>`;
  }

  tries(node) {
    return html`<table aria-label="Tries"><thead><tr><th>#</th><th>At</th><th>HTTP</th><th class="num">ms</th>
      <th>Outcome</th></tr></thead><tbody>${node.tries.map((t) => html`<tr>
        <td>${t.attempt}</td><td>${when(t.startedAt)}</td><td>${t.httpStatus ?? "—"}</td>
        <td class="num">${t.latencyMs}</td><td>${t.succeeded ? "delivered" : t.error}</td></tr>`)}</tbody></table>`;
  }

  async retry(node) {
    const result = await client.mutate(RETRY, { input: { deliveryId: node.id } });
    this.problem = mutationProblem(result, "retryAffiliatePostback");
    await this.reload();
  }
}

customElements.define("cr-affiliate-postbacks", AffiliatePostbacks);
customElements.define("cr-postback-log", PostbackLog);
