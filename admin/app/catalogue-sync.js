/**
 * Catalogue sync (content managers; on the Providers screen): every pull of a provider's game list, newest
 * first, with what it added, changed (old → new), withdrew (switched off, kept) and restored, or why it failed
 * (a failed run changed nothing); and "Sync now" for one provider, which runs what the schedule runs
 * (docs/catalogue-sync.md). The button shows only to roles that may sync; the server checks again.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, pager, runMutation, viewer, when, words } from "./ui.js";

const GAMES = "code title changes { field old new }";
const RUN = `id provider trigger status startedAt finishedAt addedCount changedCount withdrawnCount restoredCount
  unchangedCount error added { ${GAMES} } changed { ${GAMES} } withdrawn { ${GAMES} } restored { ${GAMES} }`;
const SYNC = `mutation($input: SyncGameCatalogueInput!) { syncGameCatalogue(input: $input) {
  run { provider status addedCount changedCount withdrawnCount restoredCount error } errors { code field message } } }`;

const show = (value) => (value === null || value === undefined ? "—" : JSON.stringify(value));

function gameList(label, games, detail) {
  if (!games.length) return nothing;
  return html`<h4 style="margin:.5rem 0 .25rem">${label}</h4>
    <ul style="margin:0;padding-left:1.25rem" aria-label=${label}>${games.map((g) => html`<li>
      <strong>${g.code}</strong> ${g.title}${detail ? html`: ${g.changes.map((c, i) => html`${i ? "; " : ""}${c.field}
        ${show(c.old)} → ${show(c.new)}`)}` : nothing}</li>`)}</ul>`;
}

class CatalogueSync extends QueryElement {
  static properties = { ...QueryElement.properties, open: { state: true }, message: { state: true },
                        problem: { state: true }, busy: { state: true } };
  query = `query CatalogueSyncRuns($after: String) { catalogueSyncRuns(first: 25, after: $after) {
    edges { cursor node { ${RUN} } } pageInfo { hasNextPage } } }`;
  emptyText = "No sync yet: give a provider its game-list URL, then sync it (or wait for the schedule).";

  constructor() {
    super();
    this.pages = [null];
    this.open = null;
    this.message = "";
    this.problem = "";
  }

  get rootPath() {
    return ["catalogueSyncRuns"];
  }

  variables() {
    return { after: this.pages[this.pages.length - 1] };
  }

  isEmpty(data) {
    return !data?.catalogueSyncRuns?.edges?.length;
  }

  frame(body) {
    return html`<section aria-labelledby="sync-title" style="margin-top:1.25rem">
      <h2 id="sync-title">Catalogue sync</h2>
      <p class="muted">Each provider's game list, pulled on a schedule: new, changed and withdrawn games.</p>
      ${viewer.can("Mutation.syncGameCatalogue") ? html`<form class="row" aria-label="Sync a provider now"
          style="margin-bottom:.75rem" @submit=${(e) => this.sync(e)}>
        <label>Provider <input name="provider" required placeholder="provider code" autocomplete="off"></label>
        <button class="primary" type="submit" ?disabled=${this.busy}>Sync now</button></form>` : nothing}
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card">${body}</div></section>`;
  }

  renderData(data) {
    const { edges, pageInfo } = data.catalogueSyncRuns;
    return html`<table aria-label="Sync runs">
      <thead><tr><th>Started</th><th>Provider</th><th>How</th><th>Result</th><th class="num">Added</th>
        <th class="num">Changed</th><th class="num">Withdrawn</th><th class="num">Restored</th>
        <th class="num">Unchanged</th><th></th></tr></thead>
      <tbody>${edges.map(({ node: run }) => html`<tr data-run=${run.id}>
          <td>${when(run.startedAt)}</td><td>${run.provider}</td><td>${words(run.trigger)}</td>
          <td>${badge(run.status)}${run.error ? html` <span class="muted">${run.error}</span>` : nothing}</td>
          <td class="num">${run.addedCount}</td><td class="num">${run.changedCount}</td>
          <td class="num">${run.withdrawnCount}</td><td class="num">${run.restoredCount}</td>
          <td class="num">${run.unchangedCount}</td>
          <td>${run.addedCount + run.changedCount + run.withdrawnCount + run.restoredCount ? html`<button
            aria-expanded=${this.open === run.id ? "true" : "false"}
            @click=${() => { this.open = this.open === run.id ? null : run.id; }}>Details</button>` : nothing}</td>
        </tr>
        ${this.open === run.id ? html`<tr><td colspan="10">
          ${gameList("Added", run.added, false)}${gameList("Changed", run.changed, true)}
          ${gameList("Withdrawn (switched off, kept)", run.withdrawn, false)}${gameList("Restored", run.restored, false)}
        </td></tr>` : nothing}`)}</tbody></table>
      ${pager(this, edges, pageInfo)}`;
  }

  async sync(event) {
    event.preventDefault();
    const provider = String(new FormData(event.target).get("provider") ?? "").trim();
    const done = await runMutation(this, SYNC, { provider }, "syncGameCatalogue");
    const run = done?.run;
    if (run) {
      this.message = run.status === "SUCCEEDED"
        ? `${run.provider}: added ${run.addedCount}, changed ${run.changedCount}, withdrawn ${run.withdrawnCount}, `
          + `restored ${run.restoredCount}.`
        : "";
      this.problem = run.status === "FAILED" ? `${run.provider}: the sync failed: ${run.error}` : "";
    }
    this.pages = [null];
    await this.reload();
  }
}

customElements.define("cr-catalogue-sync", CatalogueSync);
