/**
 * Jackpots: the list with live pots (the `jackpotChanged` subscription, at most one update a second per
 * jackpot), the form that creates one (marketing and brand admins), and a jackpot's page
 * (admin/app/jackpots-page.js). Every action is offered only when the server's permissions allow it.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, go, money, mutationProblem, viewer, words } from "./ui.js";
import { watchJackpot } from "./jackpots-live.js";
import "./jackpots-page.js";

// Leaves room on the connection for the other screens' subscriptions (the server allows 10 per connection).
const LIVE_ROWS = 8;

/** A figure of every level together, in the pool's currency (exact: decimal strings added as integers). */
function sum(levels, figure, currency) {
  const scale = Math.max(0, ...levels.map((l) => (l[figure].amount.split(".")[1] ?? "").length));
  const total = levels.reduce((acc, l) => {
    const [whole, fraction = ""] = l[figure].amount.split(".");
    return acc + BigInt(whole + fraction.padEnd(scale, "0"));
  }, 0n).toString().padStart(scale + 1, "0");
  const amount = scale ? `${total.slice(0, -scale)}.${total.slice(-scale)}` : total;
  return money({ amount, currency });
}

function list(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

class Jackpots extends QueryElement {
  static properties = { ...QueryElement.properties, creating: { state: true }, problem: { state: true },
                        message: { state: true }, live: { state: true }, levelRows: { state: true } };
  query = `query Jackpots { jackpots(first: 100) { edges { node { id code name kind type status currency
    total { amount currency } levels { level generation amount { amount currency }
    contributedTotal { amount currency } wonTotal { amount currency } } } } } }`;
  emptyText = "No jackpot yet.";

  constructor() {
    super();
    this.creating = false;
    this.live = {}; // jackpot id → its latest tick
    this.levelRows = 1;
    this.stops = new Map();
  }

  get rootPath() {
    return ["jackpots"];
  }

  isEmpty(data) {
    return !data?.jackpots?.edges?.length;
  }

  updated() {
    const shown = (this.result?.data?.jackpots?.edges ?? []).slice(0, LIVE_ROWS).map((e) => e.node.id);
    for (const [id, stop] of this.stops) {
      if (!shown.includes(id)) { stop(); this.stops.delete(id); }
    }
    for (const id of shown) {
      if (!this.stops.has(id)) {
        this.stops.set(id, watchJackpot(id, (tick) => { this.live = { ...this.live, [id]: tick }; }));
      }
    }
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    for (const stop of this.stops.values()) stop();
    this.stops.clear();
  }

  frame(body) {
    return html`<h2>Jackpots</h2>
      ${viewer.can("Mutation.createJackpot") ? html`<div class="row" style="margin-bottom:.75rem">
        <button @click=${() => { this.creating = !this.creating; }} aria-expanded=${this.creating ? "true" : "false"}>
          Create a jackpot</button></div>` : nothing}
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${this.creating ? this.createForm() : nothing}
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    const jackpots = data.jackpots.edges.map((e) => e.node);
    return html`<table>
      <thead><tr><th>Jackpot</th><th>Kind</th><th>Status</th><th>Levels</th><th class="num">Total</th>
        <th class="num">Contributed</th><th class="num">Won</th><th>Live</th></tr></thead>
      <tbody>${jackpots.map((j) => {
        const tick = this.live[j.id];
        const levels = tick?.levels ?? j.levels;
        return html`<tr class="clickable" data-jackpot=${j.code} @click=${() => go(`jackpots/${encodeURIComponent(j.id)}`)}>
          <td><a href="#/jackpots/${encodeURIComponent(j.id)}"><strong>${j.name}</strong></a><br><span class="muted">${j.code}</span></td>
          <td>${words(j.kind)} · ${words(j.type)}</td>
          <td>${badge(tick?.status ?? j.status)}</td>
          <td>${levels.map((l) => html`<div data-level=${l.level}>${l.level}: <span class="amount">${money(l.amount)}</span></div>`)}</td>
          <td class="num" data-total>${money(tick?.total ?? j.total)}</td>
          <td class="num" data-contributed>${sum(j.levels, "contributedTotal", j.currency)}</td>
          <td class="num" data-won>${sum(j.levels, "wonTotal", j.currency)}</td>
          <td>${tick ? html`<span class="badge good" data-live title=${tick.at}>live</span>` : html`<span class="muted">—</span>`}</td>
        </tr>`;
      })}</tbody></table>`;
  }

  createForm() {
    const rows = Array.from({ length: this.levelRows }, (_, i) => i);
    return html`<form class="card" style="margin-bottom:1rem" aria-label="New jackpot" @submit=${(e) => this.create(e)}>
      <h3>New jackpot</h3>
      <div class="row">
        <label>Code <input name="code" required placeholder="mega-drop" autocomplete="off"></label>
        <label>Name <input name="name" required placeholder="Mega Drop"></label>
        <label>Kind <select name="kind"><option value="LOCAL">Local (one brand)</option>
          <option value="NETWORK">Network (several brands)</option></select></label>
        <label>Type <select name="type"><option value="PROGRESSIVE">Progressive</option>
          <option value="FIXED">Fixed</option></select></label>
        <label>Currency <input name="currency" required value="EUR" size="5"></label>
        <label>Brands <input name="brands" required placeholder="royal, other" value=${client.brand ?? ""}></label>
      </div>
      <div class="row" style="margin-top:.5rem">
        <label style="flex:1">Games (codes, blank: all) <input name="games"></label>
        <label style="flex:1">Providers (codes, blank: all) <input name="providers"></label>
        <label>Minimum bet <input name="minBet" placeholder="0.10" size="8"></label>
      </div>
      <table style="margin-top:.75rem"><thead><tr><th>Level</th><th>Seed</th><th>Contribution %</th><th>Trigger</th>
        <th>Must drop by</th><th>Window (s)</th></tr></thead><tbody>
        ${rows.map((i) => html`<tr data-level-row=${i}>
          <td><input aria-label="Level ${i + 1} name" name="level" required value=${["mini", "major", "grand"][i] ?? ""} size="8"></td>
          <td><input aria-label="Level ${i + 1} seed" name="seed" required placeholder="100.00" size="9"></td>
          <td><input aria-label="Level ${i + 1} contribution" name="percent" required placeholder="0.5" size="6"></td>
          <td><select aria-label="Level ${i + 1} trigger" name="trigger"><option value="AMOUNT">must drop by amount</option>
            <option value="TIME">must drop by time</option><option value="PROVIDER">provider</option></select></td>
          <td><input aria-label="Level ${i + 1} must drop by" name="mustDropBy" placeholder="500.00" size="9"></td>
          <td><input aria-label="Level ${i + 1} window" name="window" type="number" min="1" size="7"></td>
        </tr>`)}</tbody></table>
      <div class="row" style="margin-top:.5rem">
        <button type="button" @click=${() => { this.levelRows = Math.min(this.levelRows + 1, 8); }}>Add a level</button>
        <button class="primary" type="submit">Create jackpot</button>
      </div>
    </form>`;
  }

  async create(event) {
    event.preventDefault();
    const form = event.target;
    const value = (name) => form.querySelector(`[name="${name}"]`)?.value.trim() ?? "";
    const levels = [...form.querySelectorAll("[data-level-row]")].map((row) => {
      const cell = (name) => row.querySelector(`[name="${name}"]`).value.trim();
      const level = { level: cell("level"), seed: cell("seed"), contributionPercent: cell("percent"), trigger: cell("trigger") };
      if (cell("mustDropBy")) level.mustDropBy = cell("mustDropBy");
      if (cell("window")) level.dropWindowSeconds = Number(cell("window"));
      return level;
    });
    const input = { code: value("code"), name: value("name"), kind: value("kind"), type: value("type"),
                    currency: value("currency").toUpperCase(), brands: list(value("brands")), levels,
                    games: list(value("games")), providers: list(value("providers")) };
    if (value("minBet")) input.minBet = value("minBet");
    const result = await client.mutate(`mutation CreateJackpot($input: CreateJackpotInput!) {
      createJackpot(input: $input) { jackpot { id name } errors { code field message } } }`, { input });
    this.problem = mutationProblem(result, "createJackpot");
    if (this.problem) return;
    this.message = `${result.data.createJackpot.jackpot.name} created: its pots are seeded and their drop points committed.`;
    this.creating = false;
    await this.reload();
  }
}

customElements.define("cr-jackpots", Jackpots);
