/**
 * Privacy: the player 360's section for the data-protection officer (services/privacy). It shows whether
 * the player was erased (and their pseudonym), the data-subject requests, and each category kept under a
 * retention rule until when and why; it downloads the full export and erases the player (or refuses a
 * waiting request). Roles that may not read `playerPrivacy` do not see the section at all. The "Privacy
 * requests" screen is the officer's queue of erasure requests waiting for a decision.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, mutationProblem, playerName, viewer, when, words } from "./ui.js";

const PRIVACY = `query Privacy($id: ID!) { playerPrivacy(playerId: $id) { erasedAt pseudonym
  requests { kind status requestedByType reason createdAt decidedAt }
  holds { category basis retainedUntil releasedAt } } }`;
const EXPORT = `mutation($input: PlayerPrivacyInput!) { exportPlayerData(input: $input) { export errors { code message } } }`;
const ERASE = `mutation($input: DecideDataErasureInput!) { erasePlayer(input: $input) { privacy { erasedAt }
  errors { code message } } }`;
const REJECT = `mutation($input: DecideDataErasureInput!) { rejectDataErasure(input: $input) { request { status }
  errors { code message } } }`;

class PlayerPrivacy extends QueryElement {
  static properties = { ...QueryElement.properties, playerId: { type: String }, problem: { state: true },
                        message: { state: true }, download: { state: true } };
  query = PRIVACY;
  emptyText = "No privacy record.";

  get rootPath() {
    return ["playerPrivacy"];
  }

  variables() {
    return { id: this.playerId };
  }

  isEmpty(data) {
    return !data?.playerPrivacy;
  }

  frame(body) {
    return html`<section class="card" aria-labelledby="section-privacy"><h3 id="section-privacy">Privacy</h3>
      ${body}</section>`;
  }

  renderData(data) {
    const privacy = data.playerPrivacy;
    const waiting = privacy.requests.some((r) => r.kind === "ERASURE" && r.status === "REQUESTED");
    return html`<dl>
        <dt>Erased</dt><dd>${privacy.erasedAt ? html`${when(privacy.erasedAt)} as ${privacy.pseudonym}` : "no"}</dd>
      </dl>
      ${privacy.holds.length ? html`<h4 style="margin:1rem 0 .25rem">Kept under retention</h4>
        <table aria-label="Retention holds"><thead><tr><th>Category</th><th>Kept until</th><th>Why</th></tr></thead>
        <tbody>${privacy.holds.map((h) => html`<tr><td>${words(h.category)}</td>
          <td>${h.releasedAt ? html`${badge("erased")} ${when(h.releasedAt)}` : when(h.retainedUntil)}</td>
          <td>${h.basis}</td></tr>`)}</tbody></table>` : nothing}
      ${privacy.requests.length ? html`<h4 style="margin:1rem 0 .25rem">Requests</h4>
        <table aria-label="Privacy requests"><thead><tr><th>When</th><th>Kind</th><th>By</th><th>Status</th><th>Reason</th></tr></thead>
        <tbody>${privacy.requests.map((r) => html`<tr><td>${when(r.createdAt)}</td><td>${words(r.kind)}</td>
          <td>${r.requestedByType}</td><td>${badge(r.status)}</td><td>${r.reason ?? "—"}</td></tr>`)}</tbody></table>`
        : nothing}
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${this.download ? html`<p><a href=${this.download.url} download=${this.download.name}>Download ${this.download.name}</a></p>`
        : nothing}
      ${this.forms(privacy, waiting)}`;
  }

  forms(privacy, waiting) {
    return html`
      ${viewer.can("Mutation.exportPlayerData") ? html`<div class="row" style="margin-top:.75rem">
        <button @click=${this.exportData}>Export the player's data</button></div>` : nothing}
      ${!privacy.erasedAt && viewer.can("Mutation.erasePlayer") ? html`<form class="row" aria-label="Erasure"
          @submit=${this.decide} style="margin-top:.75rem">
        <label style="flex:1">Erasure reason or request reference <input name="reason" required maxlength="500"></label>
        <button class="danger" name="erase" type="submit">Erase player</button>
        ${waiting && viewer.can("Mutation.rejectDataErasure")
          ? html`<button name="reject" type="submit">Refuse the request</button>` : nothing}
      </form>` : nothing}`;
  }

  async exportData() {
    const result = await client.mutate(EXPORT, { input: { playerId: this.playerId } });
    this.problem = mutationProblem(result, "exportPlayerData");
    if (this.problem) return;
    const document = result.data.exportPlayerData.export;
    if (this.download) URL.revokeObjectURL(this.download.url);
    const blob = new Blob([JSON.stringify(document, null, 2)], { type: "application/json" });
    this.download = { url: URL.createObjectURL(blob), name: `player-${document.player_id}-export.json` };
    this.message = "The export is ready (audited).";
    this.reload();
  }

  async decide(event) {
    event.preventDefault();
    const reason = new FormData(event.target).get("reason");
    const reject = event.submitter?.name === "reject";
    const field = reject ? "rejectDataErasure" : "erasePlayer";
    const result = await client.mutate(reject ? REJECT : ERASE, { input: { playerId: this.playerId, reason } });
    this.problem = mutationProblem(result, field);
    this.message = this.problem ? "" : reject ? "The erasure request was refused." : "The player was erased.";
    if (!this.problem) this.reload();
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    if (this.download) URL.revokeObjectURL(this.download.url);
  }
}

class PrivacyRequests extends QueryElement {
  query = `query PrivacyRequests($first: Int = 50) { privacyRequests(first: $first) {
    edges { node { createdAt reason player { id email firstName lastName } } } } }`;
  emptyText = "No erasure request is waiting.";

  get rootPath() {
    return ["privacyRequests"];
  }

  isEmpty(data) {
    return !data?.privacyRequests?.edges?.length;
  }

  frame(body) {
    return html`<h2>Privacy requests</h2><div class="card">${body}</div>`;
  }

  renderData(data) {
    return html`<table aria-label="Waiting erasure requests">
      <thead><tr><th>Asked</th><th>Player</th><th>Reason</th></tr></thead>
      <tbody>${data.privacyRequests.edges.map(({ node }) => html`<tr>
        <td>${when(node.createdAt)}</td>
        <td><a href="#/players/${encodeURIComponent(node.player?.id ?? "")}">${playerName(node.player)}</a></td>
        <td>${node.reason ?? "—"}</td></tr>`)}</tbody></table>`;
  }
}

customElements.define("cr-player-privacy", PlayerPrivacy);
customElements.define("cr-privacy-requests", PrivacyRequests);
