/**
 * Tournaments: the list by state, the form that schedules one (`createTournament`), and a tournament's page:
 * its rules and schedule, the LIVE leaderboard (`leaderboardChanged` over graphql-ws: the top 20, at most one
 * update a second, each entrant linked to their 360), cancel (with a reason) and settle, the results hash and
 * the verification (the standings recomputed from the rounds and compared).
 */
import { html, nothing } from "lit";
import { describeError } from "../graphql-client.js";
import { QueryElement, badge, client, money, mutationProblem, viewer, when, words } from "./ui.js";

const LIST = `query Tournaments($states: [TournamentState!], $first: Int) {
  tournaments(states: $states, first: $first) { edges { node {
    id name state scoring entryMode currency startsAt endsAt entriesCount buyIn { amount currency }
  } } } }`;
const CREATE = `mutation CreateTournament($input: CreateTournamentInput!) { createTournament(input: $input) {
  tournament { id name state } errors { code field message } } }`;
const DETAIL = `query Tournament($id: ID!) { tournament(id: $id) {
  id name state scoring points entryMode currency startsAt endsAt resultsHash settledAt cancelledAt entriesCount
  maxRebuys roundsCap games categories providers jurisdictions
  per { amount currency } buyIn { amount currency } minBet { amount currency }
  prizes { rankFrom rankTo kind shareBps amount { amount currency } }
  payouts { rank kind amount currency status } } }`;
const BOARD = `subscription TournamentBoard($id: ID!) { leaderboardChanged(tournamentId: $id, first: 20) {
  version entrants top { rank score alias playerId } } }`;
const VERIFY = `query TournamentVerification($id: ID!) { tournamentVerification(tournamentId: $id) {
  ok entries rounds resultsHash recomputedHash problems } }`;
const CANCEL = `mutation CancelTournament($input: CancelTournamentInput!) { cancelTournament(input: $input) {
  tournament { id state } errors { code field message } } }`;
const SETTLE = `mutation SettleTournament($input: SettleTournamentInput!) { settleTournament(input: $input) {
  tournament { id state resultsHash } errors { code field message } } }`;

const STATES = ["SCHEDULED", "RUNNING", "FINISHED", "SETTLED", "CANCELLED"];
const SCORING = ["POINTS_PER_WAGER", "BIGGEST_MULTIPLIER", "SUM_OF_MULTIPLIERS", "CONSECUTIVE_WINS"];

function stateBadge(state) {
  const tone = { RUNNING: "good", SETTLED: "good", CANCELLED: "bad" }[state] ?? "warn";
  return html`<span class="badge ${tone}">${words(state)}</span>`;
}

/** A `datetime-local` value (the viewer's local time) as the API's DateTime. */
function instant(value) {
  return value ? new Date(value).toISOString() : null;
}

class Tournaments extends QueryElement {
  static properties = { ...QueryElement.properties, creating: { state: true }, problem: { state: true },
                        message: { state: true }, busy: { state: true } };
  query = LIST;
  emptyText = "No tournament matches.";
  states = [];

  get rootPath() {
    return ["tournaments"];
  }

  variables() {
    return { states: this.states.length ? this.states : null, first: 50 };
  }

  isEmpty(data) {
    return !data?.tournaments?.edges?.length;
  }

  frame(body) {
    const create = viewer.can("Mutation.createTournament");
    return html`<h2>Tournaments</h2>
      <div class="row" role="search">
        <label>State <select aria-label="State" @change=${(e) => { this.states = e.target.value ? [e.target.value] : []; this.reload(); }}>
          <option value="">any</option>
          ${STATES.map((s) => html`<option value=${s}>${words(s)}</option>`)}</select></label>
        ${create ? html`<button class="primary" @click=${() => { this.creating = !this.creating; }}
          aria-expanded=${Boolean(this.creating)}>New tournament</button>` : nothing}
      </div>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.creating ? this.form() : nothing}
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    return html`<table>
      <thead><tr><th>Name</th><th>State</th><th>Scoring</th><th>Entry</th><th>Starts</th><th>Ends</th>
        <th class="num">Entrants</th><th class="num">Buy-in</th></tr></thead>
      <tbody>${data.tournaments.edges.map(({ node }) => html`<tr data-tournament=${node.id}>
        <td><a href="#/tournaments/${encodeURIComponent(node.id)}">${node.name}</a></td>
        <td>${stateBadge(node.state)}</td><td>${words(node.scoring)}</td><td>${words(node.entryMode)}</td>
        <td>${when(node.startsAt)}</td><td>${when(node.endsAt)}</td>
        <td class="num">${node.entriesCount ?? "—"}</td><td class="num">${money(node.buyIn)}</td>
      </tr>`)}</tbody></table>`;
  }

  form() {
    return html`<form class="card" aria-label="New tournament" style="margin-bottom:1rem"
        @submit=${(e) => { e.preventDefault(); this.create(new FormData(e.target)); }}>
      <div class="row">
        <label>Name <input name="name" required maxlength="120"></label>
        <label>Currency <input name="currency" value="EUR" size="5" required></label>
        <label>Starts <input name="startsAt" type="datetime-local" required></label>
        <label>Ends <input name="endsAt" type="datetime-local" required></label>
      </div>
      <div class="row">
        <label>Scoring <select name="scoring">${SCORING.map((s) => html`<option value=${s}>${words(s)}</option>`)}</select></label>
        <label>Points <input name="points" type="number" min="1" value="1" size="4"></label>
        <label>Per amount staked <input name="per" placeholder="1.00" size="8"></label>
        <label>Entry <select name="entryMode"><option value="OPT_IN">opt in</option>
          <option value="AUTOMATIC">automatic</option></select></label>
        <label>Buy-in <input name="buyIn" placeholder="0.00" size="8"></label>
        <label>Minimum bet <input name="minBet" placeholder="0.00" size="8"></label>
        <label>Games (codes, comma-separated) <input name="games"></label>
      </div>
      <div class="row">
        <label>Prize ranks from <input name="rankFrom" type="number" min="1" size="4"></label>
        <label>to <input name="rankTo" type="number" min="1" size="4"></label>
        <label>Cash prize each <input name="prize" placeholder="50.00" size="8"></label>
        <button class="primary" type="submit" ?disabled=${this.busy}>Schedule</button>
      </div>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
    </form>`;
  }

  async create(form) {
    const text = (name) => String(form.get(name) ?? "").trim();
    const list = (name) => text(name).split(",").map((s) => s.trim()).filter(Boolean);
    const input = {
      name: text("name"), currency: text("currency").toUpperCase(), scoring: text("scoring"),
      startsAt: instant(text("startsAt")), endsAt: instant(text("endsAt")), entryMode: text("entryMode"),
      points: Number(text("points") || 1), per: text("per") || null, buyIn: text("buyIn") || null,
      minBet: text("minBet") || null, games: list("games"),
      prizes: text("prize") ? [{ rankFrom: Number(text("rankFrom") || 1), rankTo: Number(text("rankTo") || 1),
                                 kind: "CASH", amount: text("prize") }] : [],
    };
    this.busy = true;
    this.problem = "";
    try {
      const result = await client.mutate(CREATE, { input });
      this.problem = mutationProblem(result, "createTournament");
      if (!this.problem) {
        this.creating = false;
        this.message = `Tournament ${result.data.createTournament.tournament.name} scheduled.`;
        await this.reload();
      }
    } finally {
      this.busy = false;
    }
  }
}

customElements.define("cr-tournaments", Tournaments);

class TournamentPage extends QueryElement {
  static properties = { ...QueryElement.properties, tournamentId: {}, board: { state: true },
                        live: { state: true }, boardProblem: { state: true }, check: { state: true },
                        problem: { state: true }, message: { state: true }, busy: { state: true } };
  query = DETAIL;

  get rootPath() {
    return ["tournament"];
  }

  variables() {
    return { id: this.tournamentId };
  }

  isEmpty(data) {
    return !data?.tournament;
  }

  connectedCallback() {
    super.connectedCallback();
    this.stop = client.subscribe(BOARD, { id: this.tournamentId }, {
      next: (result) => {
        const board = result.data?.leaderboardChanged;
        if (!board) {
          this.boardProblem = describeError(result.errors?.[0]);
          return;
        }
        // Updates come at most once a second, in order on this socket: the latest is the board now.
        this.board = board;
        this.live = true;
        this.boardProblem = "";
      },
      error: (error) => {
        this.live = false;
        this.boardProblem = describeError(error);
      },
      complete: () => {
        this.live = false;
      },
    });
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this.stop?.();
  }

  renderData(data) {
    const t = data.tournament;
    return html`
      <p><a href="#/tournaments">← Tournaments</a></p>
      <h2>${t.name} ${stateBadge(t.state)}</h2>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div style="display:grid;grid-template-columns:minmax(300px,1fr) minmax(360px,1.3fr);gap:1rem;align-items:start">
        <div style="display:grid;gap:1rem">
          <section class="card" aria-label="Rules"><dl>
            <dt>Scoring</dt><dd>${words(t.scoring)}${t.scoring === "POINTS_PER_WAGER"
              ? html` (${t.points} per ${money(t.per)})` : nothing}</dd>
            <dt>Entry</dt><dd>${words(t.entryMode)}, buy-in ${money(t.buyIn)}${t.maxRebuys ? `, ${t.maxRebuys} re-buys` : ""}</dd>
            <dt>Minimum bet</dt><dd>${money(t.minBet)}</dd>
            <dt>Rounds counted</dt><dd>${t.roundsCap ?? "all"}</dd>
            <dt>Games</dt><dd>${[...t.games, ...t.categories, ...t.providers].join(", ") || "every game"}</dd>
            <dt>Starts</dt><dd>${when(t.startsAt)}</dd><dt>Ends</dt><dd>${when(t.endsAt)}</dd>
            <dt>Entrants</dt><dd>${t.entriesCount ?? "—"}</dd>
            <dt>Prizes</dt><dd>${t.prizes.length ? t.prizes.map((p) => html`<div>ranks ${p.rankFrom}–${p.rankTo}:
              ${p.amount ? money(p.amount) : `${(p.shareBps ?? 0) / 100}% of the pool`} ${words(p.kind)}</div>`) : "none"}</dd>
          </dl></section>
          ${this.steps(t)}
          ${this.results(t)}
        </div>
        ${this.leaderboard()}
      </div>`;
  }

  steps(t) {
    const cancel = viewer.can("Mutation.cancelTournament") && !["SETTLED", "CANCELLED"].includes(t.state);
    const settle = viewer.can("Mutation.settleTournament") && t.state === "FINISHED";
    if (!cancel && !settle) return nothing;
    return html`<section class="card" aria-label="Steps"><div class="row">
      ${settle ? html`<button class="primary" ?disabled=${this.busy} @click=${() => this.step("settle")}>Settle</button>` : nothing}
      ${cancel ? html`<input aria-label="Reason to cancel" placeholder="Why cancel (buy-ins go back)" data-reason>
        <button class="danger" ?disabled=${this.busy} @click=${() => this.step("cancel")}>Cancel tournament</button>` : nothing}
    </div></section>`;
  }

  results(t) {
    const verify = viewer.can("Query.tournamentVerification");
    const c = this.check;
    return html`<section class="card" aria-label="Results">
      <h3>Results</h3>
      <dl><dt>Results hash</dt><dd><code>${t.resultsHash ?? "published at settlement"}</code></dd>
        ${t.settledAt ? html`<dt>Settled</dt><dd>${when(t.settledAt)}</dd>` : nothing}
        ${t.cancelledAt ? html`<dt>Cancelled</dt><dd>${when(t.cancelledAt)}</dd>` : nothing}</dl>
      ${t.payouts.length ? html`<table aria-label="Payouts"><thead><tr><th>Rank</th><th>Prize</th><th>Status</th></tr></thead>
        <tbody>${t.payouts.map((p) => html`<tr><td>${p.rank}</td><td>${p.amount} ${p.currency} ${words(p.kind)}</td>
          <td>${badge(p.status)}</td></tr>`)}</tbody></table>` : nothing}
      ${verify ? html`<div class="row" style="margin-top:.5rem">
        <button @click=${() => this.verify()} ?disabled=${this.busy}>Verify standings</button>
        ${c ? html`<span data-verification role="status">${c.ok
          ? html`<span class="badge good">verified</span> ${c.entries} entries from ${c.rounds} rounds`
          : html`<span class="badge bad">differs</span>`}</span>` : nothing}</div>
        ${c && !c.ok ? html`<ul class="error">${c.problems.map((p) => html`<li>${p}</li>`)}</ul>` : nothing}
        ${c ? html`<p class="muted">Recomputed hash <code>${c.recomputedHash}</code></p>` : nothing}` : nothing}
    </section>`;
  }

  leaderboard() {
    const b = this.board;
    const links = viewer.can("Query.players");
    return html`<section class="card" aria-label="Live leaderboard">
      <div class="row" style="justify-content:space-between;align-items:baseline">
        <h3>Leaderboard</h3>
        <span class="muted" data-live>${this.live ? html`<span class="badge good">live</span> ${b?.entrants ?? 0} entrants`
          : "connecting…"}</span>
      </div>
      ${this.boardProblem ? html`<p class="error" role="alert">${this.boardProblem}</p>` : nothing}
      ${!b ? html`<p class="state">Waiting for the board…</p>` : !b.top.length
        ? html`<p class="state">Nobody has scored yet.</p>` : html`<table>
        <thead><tr><th class="num">Rank</th><th>Entrant</th><th class="num">Score</th></tr></thead>
        <tbody>${b.top.map((s) => html`<tr data-rank=${s.rank}><td class="num">${s.rank}</td>
          <td>${links && s.playerId ? html`<a href="#/players/${encodeURIComponent(s.playerId)}">${s.alias}</a>` : s.alias}</td>
          <td class="num">${s.score}</td></tr>`)}</tbody></table>`}
    </section>`;
  }

  async verify() {
    this.busy = true;
    try {
      const result = await client.query(VERIFY, { id: this.tournamentId });
      this.problem = result.failures[0] ? describeError(result.failures[0]) : "";
      this.check = result.data?.tournamentVerification ?? null;
    } finally {
      this.busy = false;
    }
  }

  async step(which) {
    let mutation = SETTLE;
    let field = "settleTournament";
    const input = { tournamentId: this.tournamentId };
    if (which === "cancel") {
      const reason = this.renderRoot.querySelector("[data-reason]")?.value?.trim() ?? "";
      if (!reason) {
        this.problem = "Give a reason to cancel.";
        return;
      }
      [mutation, field, input.reason] = [CANCEL, "cancelTournament", reason];
    }
    this.busy = true;
    this.message = "";
    try {
      const result = await client.mutate(mutation, { input });
      this.problem = mutationProblem(result, field);
      if (!this.problem) this.message = which === "cancel" ? "Tournament cancelled: buy-ins refunded." : "Tournament settled.";
      await this.reload();
    } finally {
      this.busy = false;
    }
  }
}

customElements.define("cr-tournament", TournamentPage);
