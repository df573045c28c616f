/**
 * Messages (CRM): the message log of the brand (status, reason of a suppression or failure, opens and clicks),
 * filtered by status, channel and reason; for marketing and brand admins also the message templates (one per
 * key and language, Jinja2 in a sandbox: a template that does not compile is refused with its part) and a
 * send of one template to a segment (each member once per batch key; every message is checked against
 * suppression right before it goes). Support reads the log only.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, runMutation, shortId, viewer, when, words } from "./ui.js";

const LOG = `query CrmMessages($filter: CrmMessageFilter) {
  crmMessages(filter: $filter, first: 50) { edges { node {
    id playerId channel product template language status reason subject attempts lastError createdAt sentAt
    openedAt clickedAt readAt } } } }`;
const TEMPLATES = `query CrmTemplates { crmTemplates { id key language subject bodyHtml bodyText version updatedAt } }`;
const SAVE = `mutation($input: SaveCrmTemplateInput!) { saveCrmTemplate(input: $input) {
  template { id key language version } errors { code field message } } }`;
const SEND = `mutation($input: SendMessageInput!) { sendMessage(input: $input) {
  batchId members queued alreadyQueued errors { code field message } } }`;
const CHANNELS = ["EMAIL", "SMS", "PUSH", "INBOX"];
const PRODUCTS = ["casino", "live_casino", "sports", "poker"];

/** The screen: templates and the send form (when the viewer may use them) above the log. */
class CrmMessages extends QueryElement {
  static properties = { ...QueryElement.properties, status: { state: true }, channel: { state: true },
                        reason: { state: true } };
  query = LOG;
  emptyText = "No message yet.";
  status = "";
  channel = "";
  reason = "";

  get rootPath() {
    return ["crmMessages"];
  }

  variables() {
    return { filter: { status: this.status || null, channel: this.channel || null, reason: this.reason || null } };
  }

  isEmpty(data) {
    return !data?.crmMessages?.edges?.length;
  }

  render() {
    return html`<h2>Messages</h2>
      ${viewer.can("Query.crmTemplates") ? html`<cr-crm-templates @sent=${() => this.reload()}></cr-crm-templates>`
        : nothing}
      <h3>Message log</h3>
      ${this.hidden ? nothing : html`${this.filters()}<div class="card">${this.body()}</div>`}`;
  }

  filters() {
    const pick = (name, values) => html`<label>${name} <select aria-label=${name}
        @change=${(e) => { this[name.toLowerCase()] = e.target.value; this.reload(); }}>
        ${["", ...values].map((v) => html`<option value=${v}>${v ? words(v) : "any"}</option>`)}</select></label>`;
    return html`<form class="row" role="search" aria-label="Message filters" @submit=${(e) => {
        e.preventDefault(); this.reason = e.target.reason.value.trim().toUpperCase(); this.reload(); }}>
      ${pick("Status", ["QUEUED", "SENT", "FAILED", "SUPPRESSED", "CANCELLED"])}
      ${pick("Channel", CHANNELS)}
      <label>Reason <input name="reason" aria-label="Reason" placeholder="e.g. SELF_EXCLUDED"></label>
      <button type="submit">Show</button>
    </form>`;
  }

  renderData(data) {
    return html`<table aria-label="Message log">
      <thead><tr><th>Queued</th><th>Player</th><th>Channel</th><th>Template</th><th>Status</th><th>Reason</th>
        <th>Subject</th><th>Sent</th><th>Opened</th><th>Clicked</th></tr></thead>
      <tbody>${data.crmMessages.edges.map(({ node }) => html`<tr data-message=${node.id}>
        <td>${when(node.createdAt)}</td><td title=${node.playerId}>${shortId(node.playerId)}</td>
        <td>${words(node.channel)}</td><td>${node.template}${node.language ? html` <small>${node.language}</small>`
          : nothing}</td>
        <td>${badge(node.status)}${node.attempts > 1 ? html` <small>${node.attempts} tries</small>` : nothing}</td>
        <td>${node.reason ?? ""}${node.lastError ? html` <small>${node.lastError}</small>` : nothing}</td>
        <td>${node.subject ?? ""}</td><td>${when(node.sentAt)}</td>
        <td>${when(node.openedAt ?? node.readAt)}</td><td>${when(node.clickedAt)}</td>
      </tr>`)}</tbody></table>`;
  }
}

/** Templates (list, edit, save) and the send of one to a segment. */
class CrmTemplates extends QueryElement {
  static properties = { ...QueryElement.properties, editing: { state: true }, message: { state: true },
                        problem: { state: true }, busy: { state: true } };
  query = TEMPLATES;
  emptyText = "No template yet.";
  editing = null;

  get rootPath() {
    return ["crmTemplates"];
  }

  isEmpty(data) {
    return !data?.crmTemplates?.length;
  }

  frame(body) {
    return html`<h3>Templates</h3>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card">${body}</div>${this.editor()}${this.sendForm()}`;
  }

  renderData(data) {
    return html`<table aria-label="Templates">
      <thead><tr><th>Key</th><th>Language</th><th>Subject</th><th class="num">Version</th><th>Updated</th><th></th>
      </tr></thead>
      <tbody>${data.crmTemplates.map((t) => html`<tr data-template=${t.id}>
        <td>${t.key}</td><td>${t.language}</td><td>${t.subject}</td><td class="num">${t.version}</td>
        <td>${when(t.updatedAt)}</td><td><button @click=${() => { this.editing = t; }}>Edit</button></td>
      </tr>`)}</tbody></table>`;
  }

  editor() {
    if (!viewer.can("Mutation.saveCrmTemplate")) return nothing;
    const t = this.editing ?? {};
    return html`<form class="card" aria-label="Template" @submit=${(e) => this.save(e)}>
      <div class="row">
        <label>Key <input name="key" required .value=${t.key ?? ""} placeholder="welcome"></label>
        <label>Language <input name="language" required size="6" .value=${t.language ?? "en"}></label>
        <label>Subject <input name="subject" required size="50" .value=${t.subject ?? ""}></label>
      </div>
      <label>HTML body <textarea name="bodyHtml" rows="5" cols="80" .value=${t.bodyHtml ?? ""}></textarea></label>
      <label>Text body <textarea name="bodyText" rows="3" cols="80" required .value=${t.bodyText ?? ""}></textarea>
      </label>
      <p><small>Jinja2: {{ player.first_name }}, {{ brand.name }}, {{ unsubscribe_url }} and the send's context.
        Added when left out: the unsubscribe link.</small></p>
      <button class="primary" type="submit" ?disabled=${this.busy}>Save template</button>
      ${this.editing ? html`<button type="button" @click=${() => { this.editing = null; }}>New</button>` : nothing}
    </form>`;
  }

  sendForm() {
    if (!viewer.can("Mutation.sendMessage")) return nothing;
    return html`<h3>Send to a segment</h3><form class="card" aria-label="Send to a segment" @submit=${(e) => this.send(e)}>
      <div class="row">
        <label>Segment id <input name="segmentId" required size="40"></label>
        <label>Template <input name="template" required></label>
        <label>Channel <select name="channel">${CHANNELS.map((c) => html`<option value=${c}>${words(c)}</option>`)}
          </select></label>
        <label>Product <select name="product">${PRODUCTS.map((p) => html`<option value=${p}>${words(p)}</option>`)}
          </select></label>
        <label>Batch key <input name="batchKey" required placeholder="2026-spring"></label>
      </div>
      <button class="primary" type="submit" ?disabled=${this.busy}>Send</button>
    </form>`;
  }

  async save(event) {
    event.preventDefault();
    const form = event.target;
    const input = Object.fromEntries(new FormData(form));
    const done = await runMutation(this, SAVE, input, "saveCrmTemplate");
    if (!done) return;
    this.message = `Template ${done.template.key} (${done.template.language}) saved, version ${done.template.version}.`;
    this.editing = null;
    form.reset();
    await this.reload();
  }

  async send(event) {
    event.preventDefault();
    const input = Object.fromEntries(new FormData(event.target));
    const done = await runMutation(this, SEND, input, "sendMessage");
    if (!done) return;
    this.message = `Queued ${done.queued} of ${done.members} members (${done.alreadyQueued} already queued).`;
    this.dispatchEvent(new CustomEvent("sent", { bubbles: true, composed: true }));
  }
}

customElements.define("cr-crm-messages", CrmMessages);
customElements.define("cr-crm-templates", CrmTemplates);
