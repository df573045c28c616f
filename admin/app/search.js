/**
 * Player search: one box (email, name, phone or id), results as you type. Up and down arrows move
 * through the results, Enter opens the player 360. Columns the viewer's role may not read are not shown.
 */
import { LitElement, css, html } from "lit";
import { describeError } from "../graphql-client.js";
import { badge, client, go, shared, when } from "./ui.js";

const SEARCH = `query Search($search: String!) {
  players(filter: {search: $search}, first: 25) {
    edges { node { id email firstName lastName phone country status createdAt brand { code } } }
  }
}`;
const COLUMNS = [
  ["email", "Email"], ["firstName", "First name"], ["lastName", "Last name"], ["phone", "Phone"],
  ["country", "Country"], ["status", "Status"], ["createdAt", "Joined"],
];
const DEBOUNCE_MS = 150;

class PlayerSearch extends LitElement {
  static properties = { text: { state: true }, result: { state: true }, busy: { state: true },
                        problem: { state: true }, active: { state: true } };
  static styles = [shared, css`
    .box { width: min(640px, 100%); font-size: 1.05rem; padding: .6rem .8rem; }
    .hint { margin: .4rem 0 1rem; }
  `];

  constructor() {
    super();
    this.text = "";
    this.result = null;
    this.problem = "";
    this.active = -1;
    this._asked = 0;
  }

  firstUpdated() {
    this.renderRoot.querySelector("input")?.focus();
  }

  onInput(event) {
    this.text = event.target.value;
    clearTimeout(this._timer);
    this._timer = setTimeout(() => this.search(), DEBOUNCE_MS);
  }

  async search() {
    const text = this.text.trim();
    const asked = ++this._asked; // answers can overtake each other: show only the newest
    if (text.length < 2) {
      this.result = null;
      this.problem = "";
      return;
    }
    this.busy = true;
    try {
      const result = await client.query(SEARCH, { search: text });
      if (asked !== this._asked) return;
      const refusal = result.refused ?? result.errors.find((e) => e.path?.length === 1 && e.path[0] === "players");
      this.problem = refusal ? describeError(refusal) : "";
      this.result = refusal ? null : result;
      this.active = -1;
    } catch (error) {
      if (asked === this._asked) this.problem = describeError(error);
    } finally {
      if (asked === this._asked) this.busy = false;
    }
  }

  get rows() {
    return this.result?.data?.players?.edges?.map((e) => e.node) ?? [];
  }

  onKey(event) {
    const rows = this.rows;
    if (!rows.length) return;
    if (event.key === "ArrowDown" || event.key === "ArrowUp") {
      event.preventDefault();
      const step = event.key === "ArrowDown" ? 1 : -1;
      this.active = (this.active + step + rows.length) % rows.length;
    } else if (event.key === "Enter" && this.active >= 0) {
      event.preventDefault();
      go(`players/${encodeURIComponent(rows[this.active].id)}`);
    }
  }

  render() {
    const rows = this.rows;
    // A column shows when the role may read it: the server refused it (FORBIDDEN) for no row.
    const columns = COLUMNS.filter(([field]) => !this.result?.errors.some(
      (e) => e.path?.[e.path.length - 1] === field && e.extensions?.code === "FORBIDDEN"));
    return html`
      <h2 id="search-title">Find a player</h2>
      <input class="box" type="search" role="combobox" aria-labelledby="search-title" aria-expanded=${rows.length > 0}
             aria-controls="results" aria-activedescendant=${this.active >= 0 ? `row-${this.active}` : ""}
             placeholder="Email, name, phone or player id" .value=${this.text}
             @input=${this.onInput} @keydown=${this.onKey}>
      <p class="hint muted">Results appear as you type. ↑ ↓ to move, Enter to open.</p>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : ""}
      ${this.busy && !this.result ? html`<p class="state" aria-live="polite">Searching…</p>` : ""}
      ${this.result && !rows.length ? html`<p class="state" aria-live="polite">No player matches “${this.text.trim()}”.</p>` : ""}
      ${rows.length ? html`
        <table id="results" role="listbox" aria-label="Players found">
          <thead><tr>${columns.map(([, label]) => html`<th>${label}</th>`)}<th>Brand</th></tr></thead>
          <tbody>${rows.map((p, i) => html`
            <tr id="row-${i}" class="clickable" role="option" aria-selected=${i === this.active ? "true" : "false"}
                @click=${() => go(`players/${encodeURIComponent(p.id)}`)}>
              ${columns.map(([field]) => html`<td>${this.cell(p, field, i)}</td>`)}
              <td>${p.brand?.code ?? ""}</td>
            </tr>`)}</tbody>
        </table>` : ""}`;
  }

  cell(player, field, index) {
    const value = player[field];
    if (field === "status") return value ? badge(value) : "—";
    if (field === "createdAt") return when(value);
    if (field === columnWithLink(this.result)) {
      return html`<a href="#/players/${encodeURIComponent(player.id)}" tabindex=${index === 0 ? 0 : -1}>${value ?? "—"}</a>`;
    }
    return value ?? "—";
  }
}

/** The first readable column carries the link to the 360 view. */
function columnWithLink(result) {
  const refused = new Set((result?.errors ?? []).map((e) => e.path?.[e.path.length - 1]));
  return COLUMNS.map(([field]) => field).find((field) => !refused.has(field)) ?? "country";
}

customElements.define("cr-player-search", PlayerSearch);
