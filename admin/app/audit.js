/**
 * The audit log viewer: newest first, filtered by action, target or actor, page by page. Each record
 * shows who did what, why, from where, and what changed (before → after).
 */
import { html, nothing } from "lit";
import { QueryElement, when } from "./ui.js";

const PAGE = 25;

class AuditLog extends QueryElement {
  static properties = { ...QueryElement.properties, filter: { state: true }, cursors: { state: true },
                        open: { state: true } };
  query = `query Audit($filter: AuditFilter, $first: Int, $after: String) {
    auditLog(filter: $filter, first: $first, after: $after) {
      edges { node { seq at actorType actorId action targetType targetId reason ip requestId before after } }
      pageInfo { hasNextPage endCursor } } }`;
  emptyText = "No audit record matches.";

  constructor() {
    super();
    this.filter = {};
    this.cursors = [null];
    this.open = null;
  }

  get rootPath() {
    return ["auditLog"];
  }

  variables() {
    return { filter: this.filter, first: PAGE, after: this.cursors[this.cursors.length - 1] };
  }

  isEmpty(data) {
    return !data?.auditLog?.edges?.length;
  }

  apply(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const filter = {};
    for (const key of ["action", "targetType", "targetId", "actorId"]) {
      const value = String(form.get(key) ?? "").trim();
      if (value) filter[key] = value;
    }
    this.filter = filter;
    this.cursors = [null];
    this.reload();
  }

  page(step) {
    this.cursors = step > 0 ? [...this.cursors, this.result.data.auditLog.pageInfo.endCursor] : this.cursors.slice(0, -1);
    this.reload();
  }

  frame(body) {
    return html`<h2>Audit log</h2>
      <form class="row card" style="margin-bottom:1rem" @submit=${this.apply} aria-label="Filter the audit log">
        <label>Action <input name="action" placeholder="e.g. withdrawal.approve"></label>
        <label>Target type <input name="targetType" placeholder="player, payment, game…"></label>
        <label>Target id <input name="targetId"></label>
        <label>Actor id <input name="actorId"></label>
        <button type="submit" class="primary">Filter</button>
      </form>
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    const info = data.auditLog.pageInfo;
    return html`<table>
      <thead><tr><th>#</th><th>When</th><th>Who</th><th>Action</th><th>Target</th><th>Why</th><th>IP</th><th></th></tr></thead>
      <tbody>${data.auditLog.edges.map(({ node: r }) => html`
        <tr><td>${r.seq}</td><td>${when(r.at)}</td><td>${r.actorType}${r.actorId ? html`<br>${idOf(r.actorType, r.actorId)}` : ""}</td>
          <td>${r.action}</td><td>${r.targetType ?? ""}${r.targetId ? html`<br>${idOf(r.targetType, r.targetId)}` : ""}</td>
          <td>${r.reason ?? ""}</td><td>${r.ip ?? ""}</td>
          <td><button aria-expanded=${this.open === r.seq ? "true" : "false"}
            @click=${() => { this.open = this.open === r.seq ? null : r.seq; }}>Changes</button></td></tr>
        ${this.open === r.seq ? html`<tr><td colspan="8"><div class="row" style="align-items:start">
          <div style="flex:1"><strong>Before</strong><pre>${JSON.stringify(r.before, null, 1) ?? "—"}</pre></div>
          <div style="flex:1"><strong>After</strong><pre>${JSON.stringify(r.after, null, 1) ?? "—"}</pre></div></div>
          <span class="muted">request ${r.requestId ?? "—"}</span></td></tr>` : nothing}`)}
      </tbody></table>
      <div class="row" style="margin-top:.75rem">
        <button ?disabled=${this.cursors.length < 2} @click=${() => this.page(-1)}>Newer</button>
        <button ?disabled=${!info.hasNextPage} @click=${() => this.page(1)}>Older</button>
      </div>`;
  }
}

/** A record's id, linked to the player 360 when it names a player (records keep bare UUIDs). */
function idOf(type, id) {
  const code = html`<code class="muted">${id}</code>`;
  return type === "player" ? html`<a href="#/players/${encodeURIComponent(btoa(`Player:${id}`))}">${code}</a>` : code;
}

customElements.define("cr-audit-log", AuditLog);
