/**
 * Lobbies: each segment's lobby layout (category order, featured games, priority, the A/B variant it serves),
 * a form for a new one, archiving, and recomputing the popular games now (the server also does it
 * periodically). Games and segments are named by id; the lobby query shows the result to the players.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, runStep, viewer, when } from "./ui.js";

const LIST = `query Layouts { lobbyLayouts(first: 50) { edges { node {
  id name segmentId priority categoryOrder featuredGameIds experimentId variant status updatedAt } } } }`;
const CREATE = `mutation($input: CreateLobbyLayoutInput!) { createLobbyLayout(input: $input) {
  layout { id name } errors { code field message } } }`;
const UPDATE = `mutation($input: UpdateLobbyLayoutInput!) { updateLobbyLayout(input: $input) {
  layout { id status } errors { code field message } } }`;
const REFRESH = `mutation { refreshPopularGames { rows errors { message } } }`;

const list = (value) => String(value ?? "").split(",").map((part) => part.trim()).filter(Boolean);

class Lobbies extends QueryElement {
  static properties = { ...QueryElement.properties, message: { state: true }, problem: { state: true },
                        busy: { state: true } };
  query = LIST;
  emptyText = "No lobby layout yet: every player sees the brand's lobby.";

  get rootPath() {
    return ["lobbyLayouts"];
  }

  isEmpty(data) {
    return !data?.lobbyLayouts?.edges?.length;
  }

  frame(body) {
    return html`<h2>Lobbies</h2>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${viewer.can("Mutation.createLobbyLayout") ? this.form() : nothing}
      <div class="card">${body}</div>`;
  }

  form() {
    return html`<form class="card row" aria-label="New lobby layout" @submit=${(e) => this.create(e)}>
      <label>Name <input name="name" required></label>
      <label>Segment id <input name="segmentId" required></label>
      <label>Priority <input name="priority" type="number" value="0"></label>
      <label>Category order <input name="categoryOrder" placeholder="table, slots"></label>
      <label>Featured game ids <input name="featured"></label>
      <label>Experiment id <input name="experimentId"></label>
      <label>Variant <input name="variant"></label>
      <button class="primary" ?disabled=${this.busy}>Save layout</button>
      ${viewer.can("Mutation.refreshPopularGames") ? html`<button type="button" ?disabled=${this.busy}
        @click=${() => this.refresh()}>Recompute popular games</button>` : nothing}</form>`;
  }

  renderData(data) {
    const edit = viewer.can("Mutation.updateLobbyLayout");
    return html`<table><thead><tr><th>Name</th><th>Segment</th><th class="num">Priority</th>
      <th>Category order</th><th class="num">Featured</th><th>Variant</th><th>Status</th><th>Updated</th>
      ${edit ? html`<th>Steps</th>` : nothing}</tr></thead>
      <tbody>${data.lobbyLayouts.edges.map(({ node }) => html`<tr data-layout=${node.id}>
        <td>${node.name}</td><td><small>${node.segmentId}</small></td><td class="num">${node.priority}</td>
        <td>${node.categoryOrder.join(", ")}</td><td class="num">${node.featuredGameIds.length}</td>
        <td>${node.variant ?? ""}</td><td>${badge(node.status)}</td><td>${when(node.updatedAt)}</td>
        ${edit ? html`<td>${node.status === "active" ? html`<button class="danger" ?disabled=${this.busy}
          @click=${() => this.step(UPDATE, "updateLobbyLayout", { input: { id: node.id, status: "archived" } },
            `${node.name} archived.`)}>Archive</button>` : nothing}</td>` : nothing}</tr>`)}</tbody></table>`;
  }

  async create(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const input = {
      name: form.get("name"), segmentId: form.get("segmentId"), priority: Number(form.get("priority") || 0),
      categoryOrder: list(form.get("categoryOrder")), featuredGameIds: list(form.get("featured")),
      experimentId: form.get("experimentId") || null, variant: form.get("variant") || null,
      brandCode: client.brand ?? null,
    };
    await this.step(CREATE, "createLobbyLayout", { input }, `${input.name} saved.`);
  }

  async refresh() {
    await this.step(REFRESH, "refreshPopularGames", {}, "Popular games recomputed.");
  }

  step(mutation, field, variables, done) {
    return runStep(this, mutation, field, variables, done);
  }
}

customElements.define("cr-lobbies", Lobbies);
