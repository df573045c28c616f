/**
 * Games per brand: the catalog with the brand's switch for each game; switching one off or on asks
 * for a reason (audited). Staff working across brands pick the brand in the header first.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, mutationProblem, viewer } from "./ui.js";

class Games extends QueryElement {
  static properties = { ...QueryElement.properties, message: { state: true }, problem: { state: true },
                        filter: { state: true } };
  query = `query Games { games(first: 100) { edges { node { id code title type rtp provider { name }
    brandSwitch { enabled disabledCountries updatedAt brand { code name } } } } } }`;
  emptyText = "The catalog is empty.";

  constructor() {
    super();
    this.filter = "";
  }

  get rootPath() {
    return ["games"];
  }

  /** The server scoped this request to one brand (the header's, or the viewer's only one). */
  get scoped() {
    return !this.result || Boolean(this.result.data?.games?.edges?.some((e) => e.node.brandSwitch));
  }

  isEmpty(data) {
    return !data?.games?.edges?.length;
  }

  frame(body) {
    return html`<h2>Games</h2>
      ${this.scoped ? nothing : html`<p class="state">Choose a brand in the header to switch its games on or off.</p>`}
      <div class="row" style="margin-bottom:.75rem">
        <label>Filter <input type="search" placeholder="Title or provider" .value=${this.filter}
          @input=${(e) => { this.filter = e.target.value.toLowerCase(); }}></label>
        <label style="flex:1">Reason for a change <input id="reason" placeholder="e.g. provider incident"></label>
      </div>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    const canSwitch = viewer.can("Mutation.setGameAvailability") && this.scoped;
    const games = data.games.edges.map((e) => e.node).filter((g) => !this.filter
      || g.title.toLowerCase().includes(this.filter) || (g.provider?.name ?? "").toLowerCase().includes(this.filter));
    return html`<table>
      <thead><tr><th>Game</th><th>Provider</th><th>Type</th><th class="num">RTP</th><th>In this brand</th>
        ${canSwitch ? html`<th>Switch</th>` : nothing}</tr></thead>
      <tbody>${games.map((g) => html`<tr data-game=${g.code}>
        <td>${g.title}</td><td>${g.provider?.name ?? "—"}</td><td>${g.type.toLowerCase()}</td><td class="num">${g.rtp}%</td>
        <td>${g.brandSwitch ? html`${badge(g.brandSwitch.enabled ? "on" : "off")}
          ${g.brandSwitch.disabledCountries.length ? html`<span class="muted">off in ${g.brandSwitch.disabledCountries.join(", ")}</span>` : nothing}`
          : html`<span class="muted">—</span>`}</td>
        ${canSwitch && g.brandSwitch ? html`<td><button aria-label="${g.brandSwitch.enabled ? "Disable" : "Enable"} ${g.title}"
          class=${g.brandSwitch.enabled ? "danger" : "primary"} @click=${() => this.toggle(g)}>
          ${g.brandSwitch.enabled ? "Disable" : "Enable"}</button></td>` : nothing}
      </tr>`)}</tbody></table>`;
  }

  async toggle(game) {
    const reason = this.renderRoot.querySelector("#reason")?.value.trim();
    if (!reason) {
      this.problem = "Give a reason for the change first (it goes to the audit log).";
      this.renderRoot.querySelector("#reason")?.focus();
      return;
    }
    const enabled = !game.brandSwitch.enabled;
    const result = await client.mutate(`mutation($input: SetGameAvailabilityInput!) { setGameAvailability(input: $input) {
      availability { enabled } errors { code field message } } }`,
    { input: { gameId: game.id, enabled, disabledCountries: game.brandSwitch.disabledCountries, reason } });
    this.problem = mutationProblem(result, "setGameAvailability");
    this.message = this.problem ? "" : `${game.title} is now ${enabled ? "on" : "off"} at ${game.brandSwitch.brand?.name}.`;
    await this.reload();
  }
}

customElements.define("cr-games", Games);
