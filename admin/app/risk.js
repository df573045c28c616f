/**
 * Risk: the player 360's linked-accounts section (the player's cluster, drawn as a star of the accounts it
 * shares a device, card, payment account, mailbox or phone with, and listed with what links each) and the
 * block and watch list editor. Both show only to the risk desk (`Player.risk`, `Query.riskListEntries`):
 * support never sees which accounts are linked. Values are masked by the server.
 */
import { html, nothing, svg } from "lit";
import { PlayerSection } from "./player.js";
import { QueryElement, badge, client, mutationProblem, playerName, viewer, when, words } from "./ui.js";

const LINKED = `query PlayerRisk($id: ID!) { player(id: $id) { risk { clusterSize
  flags { id source outcome detail occasion raisedAt }
  linkedPlayers { player { id email firstName lastName status } sharedSignals { kind value firstSeen } } } } }`;

/** The cluster as a star: the player in the middle, each linked account around it, the edge named by
 * the kinds of signal it shares (an account linked only through others has a dashed edge). */
function clusterPicture(linked) {
  const size = 260;
  const middle = size / 2;
  const radius = 95;
  const points = linked.map((entry, index) => {
    const angle = (2 * Math.PI * index) / linked.length - Math.PI / 2;
    return { entry, x: middle + radius * Math.cos(angle), y: middle + radius * Math.sin(angle) };
  });
  const label = `This player and ${linked.length} linked account${linked.length === 1 ? "" : "s"}`;
  const margin = 60; // room for the names under the outer circles
  return html`<svg viewBox="${-margin} 0 ${size + 2 * margin} ${size}" width=${size + 2 * margin} height=${size}
    role="img" aria-label=${label}>
    ${points.map(({ entry, x, y }) => svg`
      <line x1=${middle} y1=${middle} x2=${x} y2=${y} stroke="#6b79b3" stroke-width="2"
        stroke-dasharray=${entry.sharedSignals.length ? "none" : "4 4"}></line>
      <text x=${(middle + x) / 2} y=${(middle + y) / 2 - 4} font-size="10" text-anchor="middle" fill="#444">${
        [...new Set(entry.sharedSignals.map((s) => words(s.kind)))].join(", ")}</text>`)}
    <circle cx=${middle} cy=${middle} r="16" fill="#24305e"></circle>
    ${points.map(({ entry, x, y }) => svg`<circle cx=${x} cy=${y} r="12" fill="#d6dcf5" stroke="#24305e"></circle>
      <text x=${x} y=${y + 26} font-size="10" text-anchor="middle">${entry.player ? playerName(entry.player) : "other brand"}</text>`)}
  </svg>`;
}

class PlayerRisk extends PlayerSection {
  heading = "Linked accounts";
  field = "risk";
  query = LINKED;

  renderData(data) {
    const risk = data.player.risk;
    const flags = risk.flags.length ? html`<ul aria-label="Flags">${risk.flags.map((f) => html`<li>
      ${badge(f.outcome === "block" ? "blocked" : "watch")} ${words(f.source)}: ${words(f.detail)} at ${words(f.occasion)}
      <span class="muted">(${when(f.raisedAt)})</span></li>`)}</ul>` : nothing;
    if (!risk.linkedPlayers.length) return html`${flags}<p class="state">Linked to no other account.</p>`;
    return html`${flags}<p data-field="cluster-size">Cluster of ${risk.clusterSize} accounts.</p>
      ${clusterPicture(risk.linkedPlayers)}
      <table>
        <thead><tr><th>Account</th><th>Status</th><th>Linked by</th></tr></thead>
        <tbody>${risk.linkedPlayers.map((entry) => html`<tr>
          <td>${entry.player
    ? html`<a href="#/players/${encodeURIComponent(entry.player.id)}">${playerName(entry.player)}</a>` : "—"}</td>
          <td>${entry.player ? badge(entry.player.status) : nothing}</td>
          <td>${entry.sharedSignals.length ? html`<ul style="margin:0;padding-left:1rem">${entry.sharedSignals.map((s) => html`<li>
            ${words(s.kind)}: <code>${s.value}</code> <span class="muted">since ${when(s.firstSeen)}</span></li>`)}</ul>`
    : html`<span class="muted">through other accounts of the cluster</span>`}</td>
        </tr>`)}</tbody></table>`;
  }
}

const KINDS = ["EMAIL", "EMAIL_DOMAIN", "IP", "DEVICE", "CARD_BIN", "CARD_FINGERPRINT", "COUNTRY"];
const ENTRIES = `query RiskLists($list: RiskList, $first: Int = 100) { riskListEntries(list: $list, first: $first) {
  edges { node { id list kind value reason allBrands addedAt expiresAt } } } }`;

class RiskLists extends QueryElement {
  static properties = { ...QueryElement.properties, list: { state: true }, problem: { state: true },
                        message: { state: true } };
  query = ENTRIES;
  emptyText = "No active entry.";

  constructor() {
    super();
    this.list = "";
    this.problem = "";
    this.message = "";
  }

  get rootPath() {
    return ["riskListEntries"];
  }

  variables() {
    return { list: this.list || null };
  }

  isEmpty(data) {
    return !data?.riskListEntries?.edges?.length;
  }

  frame(body) {
    return html`<h2>Block and watch lists</h2>
      ${viewer.can("Mutation.addRiskListEntry") ? this.addForm() : nothing}
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="row" style="margin:.75rem 0"><label>List <select @change=${(e) => { this.list = e.target.value; this.reload(); }}>
        ${["", "BLOCK", "WATCH"].map((l) => html`<option value=${l} ?selected=${this.list === l}>${l ? words(l) : "both"}</option>`)}
      </select></label></div>
      <div class="card">${body}</div>`;
  }

  addForm() {
    return html`<form class="card row" aria-label="Add an entry" @submit=${this.add}>
      <label>List <select name="list">${["BLOCK", "WATCH"].map((l) => html`<option value=${l}>${words(l)}</option>`)}</select></label>
      <label>Kind <select name="kind">${KINDS.map((k) => html`<option value=${k}>${words(k)}</option>`)}</select></label>
      <label style="flex:1">Value <input name="value" required maxlength="320"></label>
      <label style="flex:1">Reason <input name="reason" required maxlength="500"></label>
      <label>Expires <input name="expires" type="datetime-local"></label>
      <button class="primary" type="submit">Add</button></form>`;
  }

  renderData(data) {
    return html`<table>
      <thead><tr><th>List</th><th>Kind</th><th>Value</th><th>Reason</th><th>Added</th><th>Expires</th><th></th></tr></thead>
      <tbody>${data.riskListEntries.edges.map(({ node }) => html`<tr>
        <td>${badge(node.list === "BLOCK" ? "blocked" : "watch")}</td><td>${words(node.kind)}</td>
        <td><code>${node.value}</code>${node.allBrands ? html` <span class="muted">(every brand)</span>` : nothing}</td>
        <td>${node.reason}</td><td>${when(node.addedAt)}</td><td>${node.expiresAt ? when(node.expiresAt) : "—"}</td>
        <td>${viewer.can("Mutation.removeRiskListEntry") ? html`<form class="row" aria-label="Remove ${node.value}"
            @submit=${(e) => this.remove(e, node)}>
          <input name="reason" required maxlength="500" aria-label="Why remove it" placeholder="why">
          <button class="danger" type="submit">Remove</button></form>` : nothing}</td>
      </tr>`)}</tbody></table>`;
  }

  async add(event) {
    event.preventDefault();
    const element = event.target; // (the event is spent once the mutation has been awaited)
    const form = new FormData(element);
    const expires = form.get("expires");
    const input = { list: form.get("list"), kind: form.get("kind"), value: form.get("value"), reason: form.get("reason"),
      expiresAt: expires ? new Date(expires).toISOString() : null };
    const result = await client.mutate(`mutation($input: AddRiskListEntryInput!) { addRiskListEntry(input: $input) {
      entry { value } errors { code field message } } }`, { input });
    this.problem = mutationProblem(result, "addRiskListEntry");
    this.message = this.problem ? "" : `Added ${result.data.addRiskListEntry.entry.value}.`;
    if (!this.problem) {
      element.reset();
      this.reload();
    }
  }

  async remove(event, node) {
    event.preventDefault();
    const reason = new FormData(event.target).get("reason");
    const result = await client.mutate(`mutation($input: RemoveRiskListEntryInput!) { removeRiskListEntry(input: $input) {
      errors { code message } } }`, { input: { entryId: node.id, reason } });
    this.problem = mutationProblem(result, "removeRiskListEntry");
    this.message = this.problem ? "" : `Removed ${node.value}.`;
    if (!this.problem) this.reload();
  }
}

customElements.define("cr-player-risk", PlayerRisk);
customElements.define("cr-risk-lists", RiskLists);
