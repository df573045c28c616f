/**
 * One jackpot (#/jackpots/ID): its levels with the pots live, each level's current commitment, the
 * history (contributions by day, wins, reseeds) and every commitment with its verification once revealed
 * (the point and salt hash to what was published); staff who manage jackpots pause, resume or close it and
 * change what contributes, with a reason (audited).
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, money, mutationProblem, viewer, when, words } from "./ui.js";
import { watchJackpot } from "./jackpots-live.js";

const PAGE = 30;

function list(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

function verification(c) {
  if (!c.revealedAt) return html`<span class="badge warn">sealed</span>`;
  const verified = c.verified ? "verified" : "does not match";
  if (c.voided) return html`<span class="badge ${c.verified ? "warn" : "bad"}" title="Closed before it dropped: refunded">void, ${verified}</span>`;
  return c.verified ? html`<span class="badge good">verified</span>` : html`<span class="badge bad">does not match</span>`;
}

class JackpotPage extends QueryElement {
  static properties = { ...QueryElement.properties, jackpotId: {}, tick: { state: true }, problem: { state: true },
                        message: { state: true } };
  query = `query Jackpot($id: ID!, $page: Int) { jackpot(id: $id) { id code name kind type status currency
    games providers minBet { amount currency } createdAt total { amount currency }
    levels { id level generation trigger contributionPercent seededAt dropWindowSeconds
      amount { amount currency } seed { amount currency } mustDropBy { amount currency }
      contributedTotal { amount currency } wonTotal { amount currency }
      contributions(first: $page) { edges { node { day bets rollbacks contributed { amount currency }
        takenBack { amount currency } net { amount currency } forgone { amount currency } } } }
      wins(first: $page) { edges { node { generation trigger wonAt dropPoint playerId amount { amount currency }
        paid { amount currency } } } }
      reseeds(first: $page) { edges { node { generation seededAt amount { amount currency } } } }
      commitments(first: $page) { edges { node { generation trigger commitment publishedAt revealedAt dropPoint salt
        verified voided } } } } }
    jackpotVerification(id: $id) { ok drops { level generation ok problems } } }`;
  emptyText = "No such jackpot.";

  variables() {
    return { id: this.jackpotId, page: PAGE };
  }

  isEmpty(data) {
    return !data?.jackpot;
  }

  connectedCallback() {
    super.connectedCallback();
    this.stop = watchJackpot(this.jackpotId, (tick) => { this.tick = tick; });
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this.stop?.();
  }

  get reason() {
    return this.renderRoot.querySelector("#reason")?.value.trim() ?? "";
  }

  renderData(data) {
    const j = data.jackpot;
    const live = Object.fromEntries((this.tick?.levels ?? []).map((l) => [l.level, l]));
    const manage = viewer.can("Mutation.setJackpotStatus");
    const status = this.tick?.status ?? j.status;
    return html`<h2>${j.name} <span class="muted">${j.code}</span> ${badge(status)}</h2>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card" style="margin-bottom:1rem"><dl>
        <dt>Kind</dt><dd>${words(j.kind)} · ${words(j.type)} · ${j.currency}</dd>
        <dt>Total</dt><dd data-total>${money(this.tick?.total ?? j.total)}
          ${this.tick ? html`<span class="badge good" title=${this.tick.at}>live</span>` : nothing}</dd>
        <dt>Games</dt><dd>${j.games.length ? j.games.join(", ") : "every game"}</dd>
        <dt>Providers</dt><dd>${j.providers.length ? j.providers.join(", ") : "every provider"}</dd>
        <dt>Minimum bet</dt><dd>${money(j.minBet)}</dd>
        <dt>Created</dt><dd>${when(j.createdAt)}</dd>
      </dl></div>
      ${this.verification(data.jackpotVerification)}
      ${manage && status !== "CLOSED" ? this.actions(j, status) : nothing}
      <h3>Levels</h3>
      <div class="card" style="margin-bottom:1rem"><table>
        <thead><tr><th>Level</th><th class="num">Pot</th><th class="num">Seed</th><th class="num">Rate</th><th>Drops</th>
          <th class="num">Pot no.</th><th>Commitment</th></tr></thead>
        <tbody>${j.levels.map((l) => html`<tr data-level=${l.level}>
          <td>${l.level}</td>
          <td class="num amount">${money(live[l.level]?.amount ?? l.amount)}</td>
          <td class="num">${money(l.seed)}</td>
          <td class="num">${l.contributionPercent}%</td>
          <td>${l.trigger === "AMOUNT" ? html`by ${money(l.mustDropBy)}` : l.trigger === "TIME"
            ? html`within ${l.dropWindowSeconds} s of ${when(l.seededAt)}` : "provider"}</td>
          <td class="num">${live[l.level]?.generation ?? l.generation}</td>
          <td><code data-commitment>${l.commitments.edges.find((e) => !e.node.revealedAt)?.node.commitment ?? "—"}</code></td>
        </tr>`)}</tbody></table></div>
      ${j.levels.map((l) => this.history(l))}`;
  }

  /** Every revealed drop checked again by the server (commitment, drop point, cap, ledger, seed + contributions). */
  verification(checked) {
    if (!checked) return nothing;
    const failing = checked.drops.filter((d) => !d.ok);
    const count = checked.drops.length;
    return html`<div class="card" style="margin-bottom:1rem" data-verification>
      <h3>Verification</h3>
      ${!count ? html`<p class="state">No drop yet: every commitment is still sealed.</p>`
        : checked.ok ? html`<p><span class="badge good">verified</span> ${count === 1 ? "1 drop checks out" : `${count} drops check out`}
            against its commitment and the books.</p>`
          : html`<p><span class="badge bad">problems</span></p><ul>${failing.map((d) => html`<li>${d.level} pot ${d.generation}:
            ${d.problems.join("; ")}</li>`)}</ul>`}
    </div>`;
  }

  actions(j, status) {
    return html`<form class="card" style="margin-bottom:1rem" aria-label="Manage the jackpot" @submit=${(e) => this.configure(e, j)}>
      <div class="row">
        <label style="flex:1">Reason for a change <input id="reason" placeholder="e.g. promotion ended"></label>
        ${status === "ACTIVE" ? html`<button type="button" @click=${() => this.setStatus(j, "PAUSED")}>Pause</button>`
          : html`<button type="button" class="primary" @click=${() => this.setStatus(j, "ACTIVE")}>Resume</button>`}
        <button type="button" class="danger" @click=${() => this.setStatus(j, "CLOSED")}>Close</button>
      </div>
      <div class="row" style="margin-top:.5rem">
        <label style="flex:1">Games (codes, blank: all) <input name="games" value=${j.games.join(", ")}></label>
        <label style="flex:1">Providers (codes, blank: all) <input name="providers" value=${j.providers.join(", ")}></label>
        <label>Minimum bet <input name="minBet" value=${j.minBet.amount} size="8"></label>
        <button type="submit">Save eligibility</button>
      </div>
    </form>`;
  }

  history(l) {
    const days = l.contributions.edges.map((e) => e.node);
    const wins = l.wins.edges.map((e) => e.node);
    const seeds = l.reseeds.edges.map((e) => e.node);
    const commitments = l.commitments.edges.map((e) => e.node);
    return html`<section aria-label="History of ${l.level}" data-history=${l.level} style="margin-bottom:1.25rem">
      <h3>${l.level}: history</h3>
      <p class="muted">Contributed ${money(l.contributedTotal)} · won ${money(l.wonTotal)}</p>
      <div class="card" style="margin-bottom:.5rem"><h3>Contributions by day</h3>
        ${days.length ? html`<table data-table="days"><thead><tr><th>Day</th><th class="num">Bets</th><th class="num">Contributed</th>
          <th class="num">Taken back</th><th class="num">Net</th><th class="num" title="Rollbacks of bets whose pot had dropped: the house's loss">Forgone</th>
          </tr></thead><tbody>${days.map((d) => html`<tr>
          <td>${d.day}</td><td class="num">${d.bets}</td><td class="num">${money(d.contributed)}</td>
          <td class="num">${money(d.takenBack)}</td><td class="num">${money(d.net)}</td><td class="num">${money(d.forgone)}</td></tr>`)}</tbody></table>`
          : html`<p class="state">No contribution yet.</p>`}</div>
      <div class="card" style="margin-bottom:.5rem"><h3>Wins</h3>
        ${wins.length ? html`<table data-table="wins"><thead><tr><th>Pot no.</th><th>Won</th><th class="num">Amount</th>
          <th class="num">Paid</th><th>Drop point</th><th>Player</th></tr></thead><tbody>${wins.map((w) => html`<tr>
          <td>${w.generation}</td><td>${when(w.wonAt)}</td><td class="num">${money(w.amount)}</td><td class="num">${money(w.paid)}</td>
          <td>${w.dropPoint ?? "—"}</td><td>${w.playerId ? html`<a href="#/players/${encodeURIComponent(w.playerId)}">player</a>` : "—"}</td>
          </tr>`)}</tbody></table>` : html`<p class="state">No win yet.</p>`}</div>
      <div class="card" style="margin-bottom:.5rem"><h3>Seeds and reseeds</h3>
        <table data-table="reseeds"><thead><tr><th>Pot no.</th><th>Seeded</th><th class="num">Seed</th></tr></thead>
        <tbody>${seeds.map((s) => html`<tr><td>${s.generation}</td><td>${when(s.seededAt)}</td>
          <td class="num">${money(s.amount)}</td></tr>`)}</tbody></table></div>
      <div class="card"><h3>Commitments</h3>
        <table data-table="commitments"><thead><tr><th>Pot no.</th><th>Published</th><th>Commitment</th><th>Drop point</th>
          <th>Verification</th></tr></thead><tbody>${commitments.map((c) => html`<tr data-generation=${c.generation}>
          <td>${c.generation}</td><td>${when(c.publishedAt)}</td><td><code>${c.commitment}</code></td>
          <td>${c.dropPoint ?? "sealed until the drop"}</td><td data-verified>${verification(c)}</td></tr>`)}</tbody></table>
      </div></section>`;
  }

  needReason() {
    if (this.reason.length >= 3) return false;
    this.problem = "Give a reason for the change first (it goes to the audit log).";
    this.renderRoot.querySelector("#reason")?.focus();
    return true;
  }

  async setStatus(j, status) {
    if (this.needReason()) return;
    // Closing moves money: every pot goes back to the seed account and its drop point is revealed as void.
    const pots = j.levels.map((l) => `${l.level} ${money(l.amount)}`).join(", ");
    if (status === "CLOSED" && !window.confirm(`Close ${j.name} for good? Its pots (${pots}) go back to the seed account and their commitments are revealed as void.`)) return;
    const result = await client.mutate(`mutation SetJackpotStatus($input: SetJackpotStatusInput!) {
      setJackpotStatus(input: $input) { jackpot { status } errors { code field message } } }`,
    { input: { jackpotId: j.id, status, reason: this.reason } });
    this.problem = mutationProblem(result, "setJackpotStatus");
    this.message = this.problem ? "" : status === "CLOSED"
      ? `${j.name} is now closed: its pots went back to the seed account.` : `${j.name} is now ${words(status)}.`;
    await this.reload();
  }

  async configure(event, j) {
    event.preventDefault();
    if (this.needReason()) return;
    const form = event.target;
    const value = (name) => form.querySelector(`[name="${name}"]`)?.value.trim() ?? "";
    const result = await client.mutate(`mutation ConfigureJackpot($input: ConfigureJackpotInput!) {
      configureJackpot(input: $input) { jackpot { games providers } errors { code field message } } }`,
    { input: { jackpotId: j.id, games: list(value("games")), providers: list(value("providers")),
               minBet: value("minBet") || "0", reason: this.reason } });
    this.problem = mutationProblem(result, "configureJackpot");
    this.message = this.problem ? "" : `${j.name}: eligibility saved.`;
    await this.reload();
  }
}

customElements.define("cr-jackpot", JackpotPage);
