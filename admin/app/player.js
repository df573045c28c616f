/**
 * Player 360: one page of sections, each its own component loading its own query, so a section the
 * viewer's role may not read (its root field comes back FORBIDDEN) simply does not appear, and a
 * later domain adds a section without touching the others.
 */
import { LitElement, css, html, nothing } from "lit";
import { describeError } from "../graphql-client.js";
import {
  QueryElement, badge, client, money, mutationProblem, newKey, playerName, shared, viewer, when, words,
} from "./ui.js";
import { heldDecision, mayDecideHeld, sendHeldDecision } from "./held-deposits.js";

const PAGE = 10;
const MAX_PAGE = 100;

/** A section of the 360: a titled card around a query of `player(id) { <field> }`. */
export class PlayerSection extends QueryElement {
  static properties = { ...QueryElement.properties, playerId: { type: String }, first: { state: true },
                        open: { state: true } };

  constructor() {
    super();
    this.first = PAGE;
    this.open = new Set();
  }

  get rootPath() {
    return ["player", this.field];
  }

  variables() {
    return { id: this.playerId, first: this.first };
  }

  isEmpty(data) {
    const value = data?.player?.[this.field];
    return value == null || (Array.isArray(value) && !value.length) || (value.edges && !value.edges.length);
  }

  frame(body) {
    const id = `section-${this.field}`;
    return html`<section class="card" aria-labelledby=${id}><h3 id=${id}>${this.heading}</h3>${body}</section>`;
  }

  nodes(data) {
    return data.player[this.field].edges.map((edge) => edge.node);
  }

  more(data) {
    const info = data.player[this.field].pageInfo;
    if (!info?.hasNextPage || this.first >= MAX_PAGE) return nothing;
    return html`<button @click=${() => { this.first = Math.min(this.first + PAGE * 2, MAX_PAGE); this.reload(); }}>
      Show more</button>`;
  }

  toggle(key) {
    const open = new Set(this.open);
    if (open.has(key)) open.delete(key);
    else open.add(key);
    this.open = open;
  }

  expander(key, label) {
    const expanded = this.open.has(key);
    return html`<button aria-expanded=${expanded ? "true" : "false"} @click=${() => this.toggle(key)}>
      ${expanded ? "Hide" : "Show"} ${label}</button>`;
  }
}

// ---- profile and status ------------------------------------------------------------------------

const PROFILE_FIELDS = [
  ["email", "Email"], ["firstName", "First name"], ["lastName", "Last name"], ["phone", "Phone"],
  ["dateOfBirth", "Date of birth"], ["country", "Country"], ["currency", "Currency"], ["jurisdiction", "Jurisdiction"],
  ["marketingConsent", "Marketing consent"], ["statusReason", "Status reason"], ["createdAt", "Joined"],
];

class PlayerProfile extends PlayerSection {
  static properties = { ...PlayerSection.properties, problem: { state: true }, done: { state: true } };
  heading = "Profile and status";
  field = "status";
  query = `query Profile($id: ID!) { player(id: $id) {
    id email firstName lastName phone dateOfBirth country currency jurisdiction marketingConsent status statusReason
    createdAt brand { code name } } }`;

  get rootPath() {
    return ["player"];
  }

  isEmpty(data) {
    return !data?.player;
  }

  get emptyText() {
    return "No such player in your brand.";
  }

  renderData(data) {
    const player = data.player;
    const shown = PROFILE_FIELDS.filter(([field]) => !this.result.forbidden("player", field));
    return html`
      <dl>
        ${player.status !== null ? html`<dt>Status</dt><dd>${badge(player.status)}</dd>` : nothing}
        ${shown.map(([field, label]) => html`<dt>${label}</dt><dd>${this.value(player, field)}</dd>`)}
        ${player.brand ? html`<dt>Brand</dt><dd>${player.brand.name}</dd>` : nothing}
        <dt>Player id</dt><dd><code style="word-break:break-all">${player.id}</code></dd>
      </dl>
      ${viewer.can("Mutation.setPlayerStatus") && player.status ? this.statusForm(player) : nothing}`;
  }

  value(player, field) {
    const value = player[field];
    if (value === null || value === undefined || value === "") return "—";
    if (field === "createdAt") return when(value);
    if (field === "marketingConsent") return value ? "yes" : "no";
    return value;
  }

  statusForm(player) {
    const options = ["ACTIVE", "BLOCKED", "CLOSED"].filter((s) => s !== player.status);
    return html`
      <form class="row" style="margin-top:1rem" @submit=${(e) => this.setStatus(e, player)} aria-label="Change status">
        <label>New status <select name="status">${options.map((s) => html`<option value=${s}>${words(s)}</option>`)}</select></label>
        <label>Reason <input name="reason" required placeholder="Why"></label>
        <button type="submit">Change status</button>
      </form>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${this.done ? html`<p class="ok" role="status">${this.done}</p>` : nothing}`;
  }

  async setStatus(event, player) {
    event.preventDefault();
    const form = new FormData(event.target);
    const result = await client.mutate(`mutation($input: SetPlayerStatusInput!) {
      setPlayerStatus(input: $input) { player { status } errors { code field message } } }`,
    { input: { playerId: player.id, status: form.get("status"), reason: form.get("reason") } });
    this.problem = mutationProblem(result, "setPlayerStatus");
    this.done = this.problem ? "" : `Status changed to ${words(result.data.setPlayerStatus.player.status)}.`;
    if (!this.problem) this.reload();
  }
}

// ---- balances ----------------------------------------------------------------------------------

class PlayerBalances extends PlayerSection {
  heading = "Balances";
  field = "wallet";
  emptyText = "No balance yet.";
  query = `query Balances($id: ID!) { player(id: $id) { wallet {
    currency cash { amount currency } bonus { amount currency } withdrawalPending { amount currency }
    debt { amount currency } } } }`;

  renderData(data) {
    return html`<table>
      <thead><tr><th>Currency</th><th class="num">Cash</th><th class="num">Bonus</th><th class="num">Withdrawal pending</th>
        <th class="num">Owed (chargebacks)</th></tr></thead>
      <tbody>${data.player.wallet.map((b) => html`<tr><td>${b.currency}</td><td class="num">${money(b.cash)}</td>
        <td class="num">${money(b.bonus)}</td><td class="num">${money(b.withdrawalPending)}</td>
        <td class="num">${money(b.debt)}</td></tr>`)}</tbody></table>`;
  }
}

// ---- transactions with their postings ----------------------------------------------------------

class PlayerTransactions extends PlayerSection {
  heading = "Transactions";
  field = "transactions";
  emptyText = "No money has moved yet.";
  query = `query Transactions($id: ID!, $first: Int) { player(id: $id) { transactions(first: $first) {
    edges { node { id kind status refusalCode createdAt changes { account amount { amount currency } balanceAfter { amount currency } }
      postings { account { ownerType purpose currency } amount { amount currency } balanceAfter { amount currency } } } }
    pageInfo { hasNextPage } } } }`;

  renderData(data) {
    return html`<table>
      <thead><tr><th>When</th><th>Kind</th><th>Status</th><th class="num">Amount</th><th class="num">Balance after</th><th></th></tr></thead>
      <tbody>${this.nodes(data).map((tx) => {
        const cash = tx.changes.find((c) => c.account === "cash") ?? tx.changes[0];
        return html`<tr><td>${when(tx.createdAt)}</td><td>${words(tx.kind)}</td><td>${badge(tx.status)}</td>
          <td class="num">${cash ? money(cash.amount) : "—"}</td><td class="num">${cash ? money(cash.balanceAfter) : "—"}</td>
          <td>${tx.postings ? this.expander(tx.id, "postings") : nothing}</td></tr>
          ${this.open.has(tx.id) && tx.postings ? html`<tr><td colspan="6">
            <table aria-label="Postings"><thead><tr><th>Account</th><th class="num">Amount</th><th class="num">Balance after</th></tr></thead>
            <tbody>${tx.postings.map((p) => html`<tr><td>${p.account.ownerType} · ${words(p.account.purpose)}</td>
              <td class="num">${money(p.amount)}</td><td class="num">${money(p.balanceAfter)}</td></tr>`)}</tbody></table>
          </td></tr>` : nothing}`;
      })}</tbody></table>${this.more(data)}`;
  }
}

// ---- sessions and devices ----------------------------------------------------------------------

class PlayerSessions extends PlayerSection {
  heading = "Sessions and devices";
  field = "sessions";
  emptyText = "No sessions.";
  query = `query Sessions($id: ID!, $first: Int) { player(id: $id) { sessions(first: $first) {
    edges { node { id createdAt lastSeenAt expiresAt revokedAt ip country userAgent device } } pageInfo { hasNextPage } } } }`;

  renderData(data) {
    return html`<table>
      <thead><tr><th>Started</th><th>Last seen</th><th>Device</th><th>IP</th><th>State</th></tr></thead>
      <tbody>${this.nodes(data).map((s) => html`<tr><td>${when(s.createdAt)}</td><td>${when(s.lastSeenAt)}</td>
        <td>${s.device ?? s.userAgent ?? "—"}</td><td>${s.ip ?? "—"}${s.country ? ` (${s.country})` : ""}</td>
        <td>${s.revokedAt ? badge("ended") : new Date(s.expiresAt) < new Date() ? badge("expired") : badge("active")}</td>
      </tr>`)}</tbody></table>${this.more(data)}`;
  }
}

// ---- game rounds with the provider call log -----------------------------------------------------

class PlayerRounds extends PlayerSection {
  heading = "Game rounds";
  field = "rounds";
  emptyText = "No game rounds yet.";
  query = `query Rounds($id: ID!, $first: Int) { player(id: $id) { rounds(first: $first) {
    edges { node { id roundRef status openedAt closedAt totalBet { amount currency } totalWin { amount currency }
      game { title provider { name } }
      transactions { kind transactionUuid status amount { amount currency } rolledBack createdAt
        calls { endpoint requestUuid httpStatus rawRequest response createdAt } } } }
    pageInfo { hasNextPage } } } }`;

  renderData(data) {
    return html`<table>
      <thead><tr><th>Opened</th><th>Game</th><th>Status</th><th class="num">Bet</th><th class="num">Win</th><th></th></tr></thead>
      <tbody>${this.nodes(data).map((round) => html`
        <tr><td>${when(round.openedAt)}</td><td>${round.game?.title ?? "—"}<br><span class="muted">${round.roundRef}</span></td>
          <td>${badge(round.status)}</td><td class="num">${money(round.totalBet)}</td><td class="num">${money(round.totalWin)}</td>
          <td>${this.expander(round.id, "provider calls")}</td></tr>
        ${this.open.has(round.id) ? html`<tr><td colspan="6">${round.transactions.map((tx) => html`
          <h4 style="margin:.5rem 0 .25rem">${words(tx.kind)} ${money(tx.amount)} · ${words(tx.status)}
            ${tx.rolledBack ? "· rolled back" : ""}</h4>
          ${(tx.calls ?? []).map((call) => html`<div class="muted">${when(call.createdAt)} · ${call.endpoint} · HTTP ${call.httpStatus}</div>
            <pre>${call.rawRequest}</pre><pre>${JSON.stringify(call.response, null, 1)}</pre>`)}`)}</td></tr>` : nothing}`)}
      </tbody></table>${this.more(data)}`;
  }
}

// ---- payments ----------------------------------------------------------------------------------

class PlayerPayments extends PlayerSection {
  static properties = { ...PlayerSection.properties, problem: { state: true }, message: { state: true },
                        busy: { state: true } };
  heading = "Payments";
  field = "payments";
  emptyText = "No deposits or withdrawals yet.";
  query = `query Payments($id: ID!, $first: Int) { player(id: $id) { payments(first: $first) {
    edges { node { id kind status method psp amount { amount currency } createdAt failureMessage decisionReason } }
    pageInfo { hasNextPage } } } }`;

  renderData(data) {
    const decide = mayDecideHeld();
    return html`
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <table>
      <thead><tr><th>When</th><th>Kind</th><th>Method</th><th class="num">Amount</th><th>Status</th><th>Note</th></tr></thead>
      <tbody>${this.nodes(data).map((p) => html`<tr data-payment=${p.id}><td>${when(p.createdAt)}</td><td>${words(p.kind)}</td>
        <td>${words(p.method)}${p.psp ? ` · ${p.psp}` : ""}</td><td class="num">${money(p.amount)}</td><td>${badge(p.status)}</td>
        <td>${p.status === "HELD" && p.kind === "DEPOSIT"
          ? html`<span class="muted">held by a risk rule</span>${decide ? heldDecision(p, {
            busy: this.busy,
            decide: (verdict, reason) => this.decide(p, verdict, reason),
            problem: (text) => { this.problem = text; this.message = ""; },
          }) : nothing}`
          : p.failureMessage ?? p.decisionReason ?? ""}</td></tr>`)}</tbody></table>${this.more(data)}`;
  }

  /** The risk desk releases or declines a held deposit (admin/app/held-deposits.js); money may then move. */
  async decide(payment, verdict, reason) {
    this.busy = true;
    try {
      const { problem, message } = await sendHeldDecision(payment, verdict, reason);
      this.problem = problem;
      this.message = message;
      this.dispatchEvent(new CustomEvent("adjusted", { bubbles: true, composed: true }));
    } finally {
      this.busy = false;
    }
  }
}

// ---- responsible gambling ----------------------------------------------------------------------

const EXCLUSIONS = [
  ["timeOut:DAY", "Time-out, 24 hours"], ["timeOut:WEEK", "Time-out, 7 days"], ["timeOut:MONTH", "Time-out, 30 days"],
  ["timeOut:SIX_WEEKS", "Time-out, 6 weeks"], ["selfExclusion:SIX_MONTHS", "Self-exclusion, 6 months"],
  ["selfExclusion:ONE_YEAR", "Self-exclusion, 1 year"], ["selfExclusion:FIVE_YEARS", "Self-exclusion, 5 years"],
  ["selfExclusion:PERMANENT", "Self-exclusion, permanent"],
];

class PlayerRg extends PlayerSection {
  static properties = { ...PlayerSection.properties, problem: { state: true } };
  heading = "Responsible gambling";
  field = "responsibleGambling";

  body() {
    return html`${viewer.can("Mutation.imposeExclusion") ? this.excludeForm() : nothing}${super.body()}`;
  }

  excludeForm() {
    return html`<form class="row" @submit=${this.exclude} aria-label="Exclude the player" style="margin-bottom:.75rem">
      <label>Exclusion <select name="length" required>${EXCLUSIONS.map(([value, label]) =>
        html`<option value=${value}>${label}</option>`)}</select></label>
      <label style="flex:1">Reason <input name="reason" required maxlength="500" placeholder="Why (audited)"></label>
      <button type="submit">Exclude</button>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}</form>`;
  }

  /** Staff exclude the player; it cannot be shortened, and it reaches the person's accounts at every brand. */
  async exclude(event) {
    event.preventDefault();
    const form = event.target;
    const data = new FormData(form);
    const [length, value] = String(data.get("length")).split(":");
    if (!window.confirm("This cannot be shortened or lifted, and it covers the person's accounts at every brand. Exclude?")) return;
    const result = await client.mutate(`mutation($input: ImposeExclusionInput!) {
      imposeExclusion(input: $input) { exclusion { kind endsAt } errors { code field message } } }`,
    { input: { playerId: this.playerId, reason: data.get("reason"), [length]: value } });
    this.problem = mutationProblem(result, "imposeExclusion");
    if (!this.problem) {
      form.reset();
      this.reload();
    }
  }
  query = `query Rg($id: ID!) { player(id: $id) { responsibleGambling {
    jurisdiction { name }
    limits { kind period amount { amount currency } minutes used { amount currency } usedMinutes resetsAt
      pending { removal amount { amount currency } minutes effectiveAt } }
    exclusion { kind startsAt endsAt }
    history(first: 10) { edges { node { kind actorType details at } } } } } }`;

  renderData(data) {
    const rg = data.player.responsibleGambling;
    return html`
      <p class="muted">Rules of ${rg.jurisdiction.name}.
        ${rg.exclusion ? html`<strong>${words(rg.exclusion.kind)} until ${rg.exclusion.endsAt ? when(rg.exclusion.endsAt) : "permanent"}</strong>` : "No exclusion in force."}</p>
      ${rg.limits.length ? html`<table><thead><tr><th>Limit</th><th class="num">Amount</th><th class="num">Used</th><th>Resets</th><th>Pending</th></tr></thead>
        <tbody>${rg.limits.map((l) => html`<tr><td>${words(l.kind)} per ${words(l.period)}</td>
          <td class="num">${l.amount ? money(l.amount) : l.minutes != null ? `${l.minutes} min` : "—"}</td>
          <td class="num">${l.used ? money(l.used) : l.usedMinutes != null ? `${l.usedMinutes} min` : "—"}</td>
          <td>${when(l.resetsAt)}</td>
          <td>${l.pending ? `${l.pending.removal ? "removal" : money(l.pending.amount) ?? `${l.pending.minutes} min`} from ${when(l.pending.effectiveAt)}` : ""}</td>
        </tr>`)}</tbody></table>` : html`<p class="state">No limits set.</p>`}
      <h4 style="margin:1rem 0 .25rem">History</h4>
      ${rg.history.edges.length ? html`<table><tbody>${rg.history.edges.map(({ node }) => html`<tr>
        <td>${when(node.at)}</td><td>${words(node.kind)}</td><td>${node.actorType}</td>
        <td>${details(node.details)}</td></tr>`)}</tbody></table>` : html`<p class="state">No history yet.</p>`}`;
  }
}

/** An RG event's details in a line: what it is now (`after`, or the details themselves), without nulls. */
function details(value) {
  const shown = value?.after ?? value ?? {};
  const parts = Object.entries(shown).filter(([, v]) => v !== null && v !== false && v !== "")
    .map(([k, v]) => `${words(k)}: ${typeof v === "object" ? JSON.stringify(v) : v}`);
  return html`<span style="word-break:break-word">${parts.join(" · ") || "—"}</span>`;
}

// ---- bonuses -------------------------------------------------------------------------------------

const IN_PLAY = new Set(["ISSUED", "ACTIVE"]);

class PlayerBonuses extends PlayerSection {
  static properties = { ...PlayerSection.properties, problem: { state: true }, campaigns: { state: true } };
  heading = "Bonuses";
  field = "bonuses";
  emptyText = "No bonuses.";
  query = `query Bonuses($id: ID!) { player(id: $id) { bonuses {
    id kind status currency amount { amount currency } deposit { amount currency } converted { amount currency }
    wagering { required { amount currency } done { amount currency } percent }
    maxBet { amount currency } freeSpinsTotal freeSpinsLeft issuedAt expiresAt endedAt
    events { kind amount { amount currency } at actorType ledgerTransactionId details } } } }`;

  body() {
    return html`${viewer.can("Mutation.grantBonus") ? this.grantForm() : nothing}${super.body()}`;
  }

  async loadCampaigns() {
    const result = await client.query(`{ bonusCampaigns { id name kind status } }`);
    this.campaigns = (result.data?.bonusCampaigns ?? []).filter((c) => c.status === "ACTIVE");
  }

  connectedCallback() {
    super.connectedCallback();
    if (viewer.can("Mutation.grantBonus")) this.loadCampaigns();
  }

  grantForm() {
    const campaigns = this.campaigns ?? [];
    return html`<form class="row" @submit=${this.grant} aria-label="Grant a bonus" style="margin-bottom:.75rem">
      <label>Campaign <select name="campaignId" required>${campaigns.map((c) =>
        html`<option value=${c.id}>${c.name} (${words(c.kind)})</option>`)}</select></label>
      <label>Amount <input name="amount" inputmode="decimal" pattern="[0-9]+([.][0-9]+)?" placeholder="campaign's" size="8"></label>
      <label style="flex:1">Reason <input name="reason" required placeholder="Why (audited)"></label>
      <button type="submit" ?disabled=${!campaigns.length}>Grant bonus</button>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}</form>`;
  }

  async grant(event) {
    event.preventDefault();
    const form = event.target;
    const data = new FormData(form);
    const amount = String(data.get("amount") ?? "").trim();
    const result = await client.mutate(`mutation($input: GrantBonusInput!) {
      grantBonus(input: $input) { bonus { id } errors { code field message } } }`,
    { input: { playerId: this.playerId, campaignId: data.get("campaignId"), reason: data.get("reason"),
      amount: amount || null } });
    this.problem = mutationProblem(result, "grantBonus");
    if (!this.problem) {
      form.reset();
      this.moved();
    }
  }

  /** Bonus money moved: this section and the 360's money sections reload. */
  moved() {
    this.dispatchEvent(new CustomEvent("adjusted", { bubbles: true, composed: true }));
  }

  async cancel(bonus) {
    const reason = window.prompt("Why is this bonus cancelled? (audited; its bonus money returns to the operator)");
    if (!reason) return;
    const result = await client.mutate(`mutation($input: EndBonusInput!) {
      cancelBonus(input: $input) { bonus { status } errors { code field message } } }`,
    { input: { bonusId: bonus.id, reason } });
    this.problem = mutationProblem(result, "cancelBonus");
    if (!this.problem) this.moved();
  }

  renderData(data) {
    const mayCancel = viewer.can("Mutation.cancelBonus");
    return html`<table>
      <thead><tr><th>Issued</th><th>Kind</th><th>Status</th><th class="num">Bonus</th><th>Wagering</th>
        <th>Free spins</th><th>Ends</th><th></th></tr></thead>
      <tbody>${data.player.bonuses.map((b) => html`<tr>
        <td>${when(b.issuedAt)}</td><td>${words(b.kind)}</td><td>${badge(b.status)}</td>
        <td class="num">${money(b.amount)}${Number(b.converted.amount) ? html`<br><span class="muted">converted ${money(b.converted)}</span>` : nothing}</td>
        <td>${Number(b.wagering.required.amount) > 0
          ? html`<progress max="100" value=${b.wagering.percent} aria-label="wagering progress"></progress>
            ${money(b.wagering.done)} of ${money(b.wagering.required)}`
          : html`<span class="muted">none yet</span>`}${b.maxBet ? html`<br><span class="muted">max bet ${money(b.maxBet)}</span>` : nothing}</td>
        <td>${b.freeSpinsTotal ? `${b.freeSpinsLeft} of ${b.freeSpinsTotal} left` : "—"}</td>
        <td>${when(b.endedAt ?? b.expiresAt)}</td>
        <td>${this.expander(b.id, "history")}
          ${mayCancel && IN_PLAY.has(b.status) ? html`<button @click=${() => this.cancel(b)}>Cancel</button>` : nothing}</td>
      </tr>${this.open.has(b.id) ? html`<tr><td colspan="8"><table><tbody>${b.events.map((e) => html`<tr>
        <td>${when(e.at)}</td><td>${words(e.kind)}</td><td class="num">${e.amount ? money(e.amount) : ""}</td>
        <td>${e.actorType}</td><td>${e.ledgerTransactionId ? shortLedger(e.ledgerTransactionId) : ""}</td>
        <td>${details(e.details)}</td></tr>`)}</tbody></table></td></tr>` : nothing}`)}</tbody></table>`;
  }
}

/** A ledger transaction id, short, with the whole id on hover (the transactions section shows its postings). */
function shortLedger(id) {
  return html`<code title=${id}>${id.slice(-8)}</code>`;
}

// ---- audit trail ---------------------------------------------------------------------------------

class PlayerAuditTrail extends PlayerSection {
  heading = "Audit trail";
  field = "auditTrail";
  emptyText = "No audit records about this player.";
  query = `query Trail($id: ID!, $first: Int) { player(id: $id) { auditTrail(first: $first) {
    edges { node { seq at actorType actorId action reason ip after } } pageInfo { hasNextPage } } } }`;

  renderData(data) {
    return html`<table>
      <thead><tr><th>#</th><th>When</th><th>Who</th><th>What</th><th>Why</th><th>IP</th></tr></thead>
      <tbody>${this.nodes(data).map((r) => html`<tr><td>${r.seq}</td><td>${when(r.at)}</td><td>${r.actorType}</td>
        <td>${r.action}</td><td>${r.reason ?? ""}</td><td>${r.ip ?? ""}</td></tr>`)}</tbody></table>${this.more(data)}`;
  }
}

// ---- notes -------------------------------------------------------------------------------------

class PlayerNotes extends PlayerSection {
  static properties = { ...PlayerSection.properties, problem: { state: true } };
  heading = "Notes";
  field = "notes";
  query = `query Notes($id: ID!, $first: Int) { player(id: $id) { notes(first: $first) {
    edges { node { id body createdAt author { displayName } } } pageInfo { hasNextPage } } } }`;

  body() {
    return html`${viewer.can("Mutation.addPlayerNote") ? this.form() : nothing}${super.body()}`;
  }

  get emptyText() {
    return "No notes yet.";
  }

  form() {
    return html`<form @submit=${this.add} aria-label="Add a note" style="display:grid;gap:.5rem;margin-bottom:.75rem">
      <label>New note <textarea name="body" rows="2" maxlength="2000" required></textarea></label>
      <div><button type="submit">Add note</button></div>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}</form>`;
  }

  async add(event) {
    event.preventDefault();
    const form = event.target;
    const result = await client.mutate(`mutation($input: AddPlayerNoteInput!) {
      addPlayerNote(input: $input) { note { id } errors { code field message } } }`,
    { input: { playerId: this.playerId, body: new FormData(form).get("body") } });
    this.problem = mutationProblem(result, "addPlayerNote");
    if (!this.problem) {
      form.reset();
      this.reload();
    }
  }

  renderData(data) {
    return html`${this.nodes(data).map((note) => html`<article style="border-top:1px solid var(--line);padding:.5rem 0">
      <div class="muted">${note.author?.displayName ?? "—"} · ${when(note.createdAt)}</div>
      <div style="white-space:pre-wrap">${note.body}</div></article>`)}${this.more(data)}`;
  }
}

// ---- manual adjustment ---------------------------------------------------------------------------

class AdjustForm extends LitElement {
  static properties = { playerId: { type: String }, currencies: { type: Array }, problem: { state: true },
                        done: { state: true }, busy: { state: true } };
  static styles = shared;

  async submit(event) {
    event.preventDefault();
    const element = event.target; // kept: a shadow-DOM event's target is cleared once dispatch ends
    const form = new FormData(element);
    this.busy = true;
    try {
      const result = await client.mutate(`mutation($input: RequestAdjustmentInput!) {
        requestAdjustment(input: $input) { adjustment { status amount { amount currency } } errors { code field message } } }`,
      { input: { playerId: this.playerId, amount: String(form.get("amount")).trim(), currency: form.get("currency"),
        direction: form.get("direction"), reason: form.get("reason"), idempotencyKey: newKey() } });
      this.problem = mutationProblem(result, "requestAdjustment");
      const adjustment = result.data?.requestAdjustment?.adjustment;
      this.done = this.problem ? "" : adjustment.status === "PENDING_APPROVAL"
        ? `Sent for a second approval (${money(adjustment.amount)}).`
        : `Adjustment ${words(adjustment.status)}: ${money(adjustment.amount)}.`;
      if (!this.problem) {
        element.reset();
        this.dispatchEvent(new CustomEvent("adjusted", { bubbles: true, composed: true }));
      }
    } catch (error) {
      this.problem = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  render() {
    return html`<section class="card" aria-labelledby="adjust-title"><h3 id="adjust-title">Manual adjustment</h3>
      <form class="row" @submit=${this.submit}>
        <label>Direction <select name="direction"><option value="CREDIT">credit (give)</option><option value="DEBIT">debit (take)</option></select></label>
        <label>Amount <input name="amount" required inputmode="decimal" pattern="[0-9]+([.][0-9]+)?" placeholder="25.00" size="10"></label>
        <label>Currency <select name="currency">${(this.currencies ?? []).map((c) => html`<option>${c}</option>`)}</select></label>
        <label style="flex:1">Reason <input name="reason" required placeholder="Why (the player and auditors may read it)"></label>
        <button class="primary" type="submit" ?disabled=${this.busy}>Adjust</button>
      </form>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${this.done ? html`<p class="ok" role="status">${this.done}</p>` : nothing}</section>`;
  }
}

// ---- the page ------------------------------------------------------------------------------------

class Player360 extends LitElement {
  static properties = { playerId: { type: String }, name: { state: true }, currencies: { state: true } };
  static styles = [shared, css`
    .grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(560px, 1fr)); gap: 1rem; align-items: start; }
    .wide { grid-column: 1 / -1; }
    header { display: flex; align-items: baseline; gap: 1rem; margin-bottom: 1rem; }
  `];

  constructor() {
    super();
    this.name = "";
    this.currencies = [];
  }

  connectedCallback() {
    super.connectedCallback();
    this.loadTitle();
  }

  async loadTitle() {
    const result = await client.query(`query($id: ID!) { player(id: $id) { id email firstName lastName currency
      wallet { currency } } }`, { id: this.playerId });
    const player = result.data?.player;
    this.name = player ? playerName(player) : "";
    const held = (player?.wallet ?? []).map((w) => w.currency);
    this.currencies = [...new Set([player?.currency, ...held].filter(Boolean))];
  }

  refresh() {
    for (const section of this.renderRoot.querySelectorAll(".refreshes")) section.reload();
  }

  render() {
    const id = this.playerId;
    return html`
      <header><a href="#/players">← Search</a><h2>${this.name || "Player"}</h2></header>
      <div class="grid" @adjusted=${this.refresh}>
        <cr-player-profile .playerId=${id}></cr-player-profile>
        <div style="display:grid;gap:1rem">
          <cr-player-balances class="refreshes" .playerId=${id}></cr-player-balances>
          ${viewer.can("Mutation.requestAdjustment") && this.currencies.length
            ? html`<cr-adjust-form .playerId=${id} .currencies=${this.currencies}></cr-adjust-form>`
            : nothing}
        </div>
        <cr-player-transactions class="wide refreshes" .playerId=${id}></cr-player-transactions>
        <cr-player-payments class="refreshes" .playerId=${id}></cr-player-payments>
        <cr-player-closed-loop class="refreshes" .playerId=${id}></cr-player-closed-loop>
        <cr-player-sessions .playerId=${id}></cr-player-sessions>
        <cr-player-rounds class="wide" .playerId=${id}></cr-player-rounds>
        <cr-player-rg .playerId=${id}></cr-player-rg>
        <cr-player-kyc .playerId=${id}></cr-player-kyc>
        ${viewer.can("Player.affiliate") ? html`<cr-player-affiliate .playerId=${id}></cr-player-affiliate>` : nothing}
        ${viewer.can("Player.risk") ? html`<cr-player-risk-score class="wide refreshes" .playerId=${id}></cr-player-risk-score>
          <cr-player-risk .playerId=${id}></cr-player-risk>` : nothing}
        <cr-player-notes .playerId=${id}></cr-player-notes>
        <cr-player-aml-cases class="wide" .playerId=${id}></cr-player-aml-cases>
        <cr-player-aml-alerts .playerId=${id}></cr-player-aml-alerts>
        <cr-player-screening-matches .playerId=${id}></cr-player-screening-matches>
        <cr-player-privacy .playerId=${id}></cr-player-privacy>
        <cr-player-bonuses class="wide refreshes" .playerId=${id}></cr-player-bonuses>
        <cr-player-free-rounds class="wide refreshes" .playerId=${id}></cr-player-free-rounds>
        <cr-player-audit-trail class="wide refreshes" .playerId=${id}></cr-player-audit-trail>
        <cr-player-consents .playerId=${id}></cr-player-consents>
        <cr-player-suppressions class="wide" .playerId=${id}></cr-player-suppressions>
      </div>`;
  }
}

customElements.define("cr-player-profile", PlayerProfile);
customElements.define("cr-player-balances", PlayerBalances);
customElements.define("cr-player-transactions", PlayerTransactions);
customElements.define("cr-player-sessions", PlayerSessions);
customElements.define("cr-player-rounds", PlayerRounds);
customElements.define("cr-player-payments", PlayerPayments);
customElements.define("cr-player-rg", PlayerRg);
customElements.define("cr-player-audit-trail", PlayerAuditTrail);
customElements.define("cr-player-notes", PlayerNotes);
customElements.define("cr-player-bonuses", PlayerBonuses);
customElements.define("cr-adjust-form", AdjustForm);
customElements.define("cr-player-360", Player360);
