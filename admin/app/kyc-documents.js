/**
 * The KYC document queue: documents waiting for review (or any status), oldest concerns first in view,
 * and a viewer for the one selected — images inline, PDFs in an iframe — loaded from a short-lived content
 * link the server signs for this officer (every read is audited). The officer approves (with the document's
 * expiry, e.g. the ID card's), rejects with a reason the player sees, or asks the player for another
 * document. Only KYC officers and superadmins are offered the screen; buttons show only for who may act.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, mutationProblem, playerName, viewer, when, words } from "./ui.js";

const STATUSES = ["PENDING", "APPROVED", "REJECTED", "EXPIRED"];
const KINDS = ["IDENTITY", "ADDRESS", "SOURCE_OF_FUNDS", "SELFIE", "OTHER"];

const QUEUE = `query KycDocumentQueue($status: KycDocumentStatus) { kycDocuments(status: $status, first: 50) {
  edges { node { id kind status mimeType sizeBytes pages sha256 uploadedAt decidedAt expiresAt reason contentUrl
    player { id email firstName lastName } } } } }`;

class KycDocuments extends QueryElement {
  static properties = { ...QueryElement.properties, status: { state: true }, selected: { state: true },
                        message: { state: true }, problem: { state: true }, busy: { state: true } };
  query = QUEUE;
  emptyText = "No document in this state. The queue is empty.";

  constructor() {
    super();
    this.status = "PENDING";
    this.selected = null;
  }

  get rootPath() {
    return ["kycDocuments"];
  }

  variables() {
    return { status: this.status };
  }

  isEmpty(data) {
    return !data?.kycDocuments?.edges?.length;
  }

  frame(body) {
    return html`<h2>KYC documents</h2>
      <cr-queue-counts counts="kycDocuments kycLevelReviews"></cr-queue-counts>
      <div class="row" style="margin-bottom:.75rem">
        <label>Status
          <select aria-label="Status" @change=${(e) => this.show(e.target.value)}>
            ${STATUSES.map((s) => html`<option value=${s} ?selected=${s === this.status}>${words(s)}</option>`)}
          </select></label>
      </div>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card">${body}</div>
      ${this.selected ? this.viewerPanel(this.selected) : nothing}`;
  }

  show(status) {
    this.status = status;
    this.selected = null;
    this.reload();
  }

  renderData(data) {
    return html`<table>
      <thead><tr><th>Uploaded</th><th>Player</th><th>Kind</th><th>File</th><th>Status</th></tr></thead>
      <tbody>${data.kycDocuments.edges.map(({ node }) => html`<tr class="clickable" data-document=${node.id}
          aria-selected=${this.selected?.id === node.id ? "true" : "false"} tabindex="0"
          @click=${() => this.open(node)} @keydown=${(e) => e.key === "Enter" && this.open(node)}>
        <td>${when(node.uploadedAt)}</td>
        <td><a href="#/players/${encodeURIComponent(node.player?.id ?? "")}">${playerName(node.player)}</a></td>
        <td>${words(node.kind)}</td>
        <td>${node.mimeType}${node.pages ? ` · ${node.pages} page(s)` : ""} · ${Math.ceil(node.sizeBytes / 1024)} KiB</td>
        <td>${badge(node.status)}</td>
      </tr>`)}</tbody></table>`;
  }

  open(document) {
    this.selected = document;
    this.problem = "";
  }

  viewerPanel(doc) {
    const review = viewer.can("Mutation.reviewKycDocument") && doc.status === "PENDING";
    const ask = viewer.can("Mutation.requestKycDocument");
    const title = `${words(doc.kind)} of ${playerName(doc.player)}`;
    return html`<section class="card" style="margin-top:1rem" aria-label="Document viewer">
      <h3>${title}</h3>
      <dl>
        <dt>Status</dt><dd>${badge(doc.status)}${doc.reason ? html` <span class="muted">${doc.reason}</span>` : nothing}</dd>
        <dt>Uploaded</dt><dd>${when(doc.uploadedAt)}</dd>
        <dt>Expires</dt><dd>${when(doc.expiresAt)}</dd>
        <dt>SHA-256</dt><dd><code>${doc.sha256}</code></dd>
      </dl>
      <div style="margin:.75rem 0">
        ${!doc.contentUrl ? html`<p class="state">You may not read this document's content.</p>`
          : doc.mimeType === "application/pdf"
            ? html`<iframe title=${`Document: ${title}`} src=${doc.contentUrl}
                style="width:100%;height:36rem;border:1px solid var(--line);border-radius:6px"></iframe>`
            : html`<img alt=${`Document: ${title}`} src=${doc.contentUrl}
                style="max-width:100%;max-height:36rem;border:1px solid var(--line);border-radius:6px">`}
      </div>
      ${review ? html`<div class="row">
        <label>Reason (the player sees it)<input name="reason" aria-label="Reason" placeholder="e.g. Passport matches"></label>
        <label>Expires on<input name="expires" type="date" aria-label="Expires on"></label>
        <button class="primary" ?disabled=${this.busy} @click=${() => this.review(doc, "APPROVE")}>Approve</button>
        <button class="danger" ?disabled=${this.busy} @click=${() => this.review(doc, "REJECT")}>Reject</button>
      </div>` : nothing}
      ${ask ? html`<div class="row" style="margin-top:.75rem">
        <label>Ask for<select name="ask-kind" aria-label="Document to ask for">
          ${KINDS.map((k) => html`<option value=${k}>${words(k)}</option>`)}</select></label>
        <label>Why (the player sees it)<input name="ask-reason" aria-label="Why another document"></label>
        <button ?disabled=${this.busy} @click=${() => this.ask(doc)}>Ask the player</button>
      </div>` : nothing}
    </section>`;
  }

  field(name) {
    return this.renderRoot.querySelector(`[name="${name}"]`)?.value ?? "";
  }

  async act(mutation, field, variables, done) {
    this.busy = true;
    this.message = "";
    try {
      const result = await client.mutate(mutation, variables);
      this.problem = mutationProblem(result, field);
      if (!this.problem) {
        this.message = done;
        this.selected = null;
        await this.reload();
      }
    } finally {
      this.busy = false;
    }
  }

  review(doc, decision) {
    const reason = this.field("reason");
    if (!reason.trim()) {
      this.problem = "Give a reason: the player sees it.";
      return undefined;
    }
    const expires = this.field("expires");
    const input = { documentId: doc.id, decision, reason,
                    ...(decision === "APPROVE" && expires ? { expiresAt: `${expires}T23:59:59Z` } : {}) };
    return this.act(`mutation($input: ReviewKycDocumentInput!) { reviewKycDocument(input: $input) {
      document { id status } errors { code field message } } }`, "reviewKycDocument", { input },
    `${decision === "APPROVE" ? "Approved" : "Rejected"} the ${words(doc.kind)} document of ${playerName(doc.player)}.`);
  }

  ask(doc) {
    const reason = this.field("ask-reason");
    if (!reason.trim()) {
      this.problem = "Say why: the player sees it.";
      return undefined;
    }
    const kind = this.field("ask-kind");
    return this.act(`mutation($input: RequestKycDocumentInput!) { requestKycDocument(input: $input) {
      request { id } errors { code field message } } }`, "requestKycDocument",
    { input: { playerId: doc.player.id, kind, reason } },
    `Asked ${playerName(doc.player)} for a ${words(kind)} document.`);
  }
}

customElements.define("cr-kyc-documents", KycDocuments);
