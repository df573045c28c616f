/**
 * The risk desk: the risk queue (open flags, the riskiest player first, each with the player's score and its
 * reasons, confirmed or dismissed with a note), the rule editor (every rule's parameters, points, actions and
 * state; a new rule), and the player 360's score section (the score with its reasons, the restrictions in
 * force with a lift button, a restriction imposed by staff). All of it shows only to the risk desk
 * (`Query.riskQueue`, `Query.riskRules`, `Player.risk`); the server validates every change and says why not.
 */
import { html, nothing } from "lit";
import { PlayerSection } from "./player.js";
import { QueryElement, badge, client, mutationProblem, pager, playerName, viewer, when, words } from "./ui.js";

const ACTION_KINDS = ["FLAG_REVIEW", "REQUIRE_KYC_LEVEL", "BLOCK_BONUSES", "ROUTE_3DS", "ROUTE_PSPS",
  "HOLD_WITHDRAWALS", "HOLD_DEPOSIT", "BLOCK_ACCOUNT"];
const STAFF_KINDS = ACTION_KINDS.filter((k) => k !== "FLAG_REVIEW" && k !== "HOLD_DEPOSIT");
const RULE_KINDS = ["VELOCITY", "CLUSTER_BONUS_CLAIM", "SCORE_AT_LEAST", "DEPOSIT_WITHDRAW_CYCLING",
  "CHARGEBACK_HISTORY", "COVERING_BETS", "LINKED_ACCOUNTS", "LIST_WATCH"];

/** A score as a badge: 60 and above bad, 30 and above warn. */
function scoreBadge(value) {
  const tone = value >= 60 ? "bad" : value >= 30 ? "warn" : "good";
  return html`<span class="badge ${tone}" data-field="score">${value}</span>`;
}

function reasonsList(reasons) {
  if (!reasons.length) return html`<span class="muted">no reason in force</span>`;
  return html`<ul style="margin:0;padding-left:1rem" aria-label="Reasons">${reasons.map((r) => html`<li>
    <strong>${r.ruleCode}</strong> +${r.points}: ${r.reason}</li>`)}</ul>`;
}

function actionWords(action) {
  const extra = action.level ?? (action.psps ? action.psps.join(", ") : null);
  return `${words(action.kind)}${extra ? ` (${extra})` : ""}`;
}

/** The actions' inputs as the mutations take them: the checked kinds, with a level or PSPs where they go. */
function checkedActions(form) {
  const data = new FormData(form);
  return data.getAll("action").map((kind) => {
    const action = { kind };
    if (kind === "REQUIRE_KYC_LEVEL") action.level = String(data.get("level") ?? "").trim() || null;
    if (kind === "ROUTE_PSPS") action.psps = String(data.get("psps") ?? "").split(",").map((p) => p.trim()).filter(Boolean);
    return action;
  });
}

function actionInputs(actions = []) {
  const has = (kind) => actions.find((a) => a.kind === kind);
  return html`<fieldset style="border:1px solid var(--line);border-radius:6px"><legend>Actions</legend>
    <div class="row">${ACTION_KINDS.map((kind) => html`<label style="display:flex;gap:.3rem;align-items:center">
      <input type="checkbox" name="action" value=${kind} ?checked=${Boolean(has(kind))}>${words(kind)}</label>`)}</div>
    <div class="row" style="margin-top:.5rem">
      <label>KYC level <input name="level" .value=${has("REQUIRE_KYC_LEVEL")?.level ?? ""} placeholder="identity_verified"></label>
      <label>PSPs <input name="psps" .value=${(has("ROUTE_PSPS")?.psps ?? []).join(", ")} placeholder="cardpay, bankwire"></label>
    </div></fieldset>`;
}

/** The parameters textarea's JSON, or a problem in words. */
function parsedParams(form) {
  const raw = String(new FormData(form).get("params") ?? "").trim() || "{}";
  try {
    const value = JSON.parse(raw);
    if (value === null || typeof value !== "object" || Array.isArray(value)) return { problem: "Parameters are a JSON object." };
    return { value };
  } catch {
    return { problem: "Parameters are not valid JSON." };
  }
}

/** A payload's errors with the field each names. */
function problemWithField(result, field) {
  const errors = result.data?.[field]?.errors ?? [];
  if (!errors.length) return mutationProblem(result, field);
  return errors.map((e) => (e.field ? `${e.field}: ${e.message}` : e.message)).join(" ");
}

// ---- the risk queue -----------------------------------------------------------------------------

const QUEUE = `query RiskQueue($status: RiskFlagStatus!, $after: String) {
  riskQueue(first: 50, after: $after, status: $status) {
    edges { cursor node { score flag { id source outcome detail occasion ruleCode status raisedAt reviewNote
      player { id email firstName lastName risk { score { value reasons { ruleCode points reason } } } } } } }
    pageInfo { hasNextPage } } }`;

class RiskQueue extends QueryElement {
  static properties = { ...QueryElement.properties, status: { state: true }, message: { state: true },
                        problem: { state: true }, busy: { state: true } };
  query = QUEUE;
  emptyText = "No flag waits. The queue is clear.";

  constructor() {
    super();
    this.status = "OPEN";
    this.pages = [null]; // the cursors of the pages walked (null: the first)
    this.message = "";
    this.problem = "";
  }

  get rootPath() {
    return ["riskQueue"];
  }

  variables() {
    return { status: this.status, after: this.pages[this.pages.length - 1] };
  }

  isEmpty(data) {
    return !data?.riskQueue?.edges?.length;
  }

  frame(body) {
    return html`<h2>Risk queue</h2>
      <div class="row" role="search"><label>Status <select aria-label="Status" @change=${(e) => {
        this.status = e.target.value;
        this.pages = [null];
        this.reload();
      }}>${["OPEN", "CONFIRMED", "DISMISSED"].map((s) => html`<option value=${s} ?selected=${this.status === s}>${words(s)}</option>`)}
      </select></label></div>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card" style="margin-top:.75rem">${body}</div>`;
  }

  renderData(data) {
    const review = viewer.can("Mutation.reviewRiskFlag") && this.status === "OPEN";
    const { edges, pageInfo } = data.riskQueue;
    return html`<table>
      <thead><tr><th class="num">Score</th><th>Player</th><th>Flag</th><th>Raised</th><th>Reasons</th>
        <th>${review ? "Review" : "Note"}</th></tr></thead>
      <tbody>${edges.map(({ node }) => {
        const { flag } = node;
        const player = flag.player;
        return html`<tr data-flag=${flag.id}>
          <td class="num">${scoreBadge(node.score)}</td>
          <td>${player ? html`<a href="#/players/${encodeURIComponent(player.id)}">${playerName(player)}</a>`
            : html`<span class="muted">refused registration</span>`}</td>
          <td>${badge(flag.outcome === "block" ? "blocked" : flag.outcome)} ${words(flag.source)}:
            ${flag.ruleCode ?? words(flag.detail)}<br><span class="muted">${words(flag.occasion)}${
              flag.ruleCode ? html` · ${flag.detail}` : nothing}</span></td>
          <td>${when(flag.raisedAt)}</td>
          <td>${player?.risk ? reasonsList(player.risk.score.reasons) : nothing}</td>
          <td>${review ? html`<form class="row" aria-label="Review the flag on ${playerName(player)}"
              @submit=${(e) => e.preventDefault()}>
            <input name="note" aria-label="Note" placeholder="what you found" maxlength="500">
            <button class="danger" type="button" ?disabled=${this.busy} @click=${(e) => this.review(e, node, "CONFIRMED")}>Confirm</button>
            <button type="button" ?disabled=${this.busy} @click=${(e) => this.review(e, node, "DISMISSED")}>Dismiss</button>
          </form>` : flag.reviewNote ?? ""}</td>
        </tr>`;
      })}</tbody></table>
      ${pager(this, edges, pageInfo)}`;
  }

  async review(event, entry, verdict) {
    const note = new FormData(event.target.form).get("note");
    if (!String(note ?? "").trim()) {
      this.problem = "Write a note: what you found.";
      this.message = "";
      return;
    }
    this.busy = true;
    try {
      const result = await client.mutate(`mutation($input: ReviewRiskFlagInput!) { reviewRiskFlag(input: $input) {
        flag { id status } errors { code field message } } }`, { input: { flagId: entry.flag.id, verdict, note } });
      this.problem = mutationProblem(result, "reviewRiskFlag");
      this.message = this.problem ? ""
        : `Flag on ${playerName(entry.flag.player)} ${verdict === "CONFIRMED" ? "confirmed" : "dismissed"}.`;
      if (!this.problem) await this.reload();
    } finally {
      this.busy = false;
    }
  }
}

// ---- the rule editor ----------------------------------------------------------------------------

const RULES = `query RiskRules { riskRules { id code name kind params points actions { kind level psps } allBrands enabled version
  updatedAt inline } }`;

class RiskRules extends QueryElement {
  static properties = { ...QueryElement.properties, editing: { state: true }, creating: { state: true },
                        message: { state: true }, problem: { state: true } };
  query = RULES;
  emptyText = "No rule.";

  constructor() {
    super();
    this.editing = null;
    this.creating = false;
    this.message = "";
    this.problem = "";
  }

  get rootPath() {
    return ["riskRules"];
  }

  isEmpty(data) {
    return !data?.riskRules?.length;
  }

  frame(body) {
    const mayCreate = viewer.can("Mutation.createRiskRule");
    return html`<h2>Risk rules</h2>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${mayCreate && !this.creating ? html`<button @click=${() => { this.creating = true; this.editing = null; this.problem = ""; }}>
        New rule</button>` : nothing}
      ${this.creating ? this.createForm() : nothing}
      <div class="card" style="margin-top:.75rem">${body}</div>`;
  }

  renderData(data) {
    const mayEdit = viewer.can("Mutation.updateRiskRule");
    return html`<table>
      <thead><tr><th>Code</th><th>Name</th><th>Kind</th><th class="num">Points</th><th>Actions</th><th>State</th>
        <th class="num">Version</th><th></th></tr></thead>
      <tbody>${data.riskRules.map((rule) => html`<tr data-rule=${rule.code}>
        <td><code>${rule.code}</code></td>
        <td>${rule.name}${rule.allBrands ? html` <span class="muted">(every brand)</span>` : nothing}</td>
        <td>${words(rule.kind)}<br><span class="muted">${rule.inline ? "inline" : "event stream"}</span></td>
        <td class="num">${rule.points}</td>
        <td>${rule.actions.map(actionWords).join(", ") || "—"}</td>
        <td>${badge(rule.enabled ? "on" : "off")}</td>
        <td class="num">${rule.version}</td>
        <td>${mayEdit ? html`<button @click=${() => { this.editing = rule.code; this.creating = false; this.problem = ""; }}
          aria-label="Edit ${rule.code}">Edit</button>` : nothing}</td>
      </tr>${this.editing === rule.code ? html`<tr><td colspan="8">${this.editForm(rule)}</td></tr>` : nothing}`)}
      </tbody></table>`;
  }

  editForm(rule) {
    return html`<form aria-label="Edit rule ${rule.code}" style="display:grid;gap:.6rem" @submit=${(e) => this.save(e, rule)}>
      <div class="row">
        <label style="flex:1">Name <input name="name" .value=${rule.name} maxlength="120" required></label>
        <label>Points <input name="points" type="number" min="0" max="100" .value=${String(rule.points)}></label>
        <label style="display:flex;gap:.3rem;align-items:center"><input type="checkbox" name="enabled"
          ?checked=${rule.enabled}>Enabled</label>
      </div>
      <label>Parameters (JSON) <textarea name="params" rows="5" .value=${JSON.stringify(rule.params, null, 2)}></textarea></label>
      ${actionInputs(rule.actions)}
      <div class="row"><label style="flex:1">Reason <input name="reason" maxlength="500" placeholder="Why (audited)"></label>
        <button class="primary" type="submit">Save</button>
        <button type="button" @click=${() => { this.editing = null; this.problem = ""; }}>Cancel</button></div>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
    </form>`;
  }

  createForm() {
    return html`<form class="card" aria-label="New rule" style="display:grid;gap:.6rem;margin-top:.75rem" @submit=${this.create}>
      <div class="row">
        <label>Code <input name="code" required maxlength="64" placeholder="my-rule"></label>
        <label style="flex:1">Name <input name="name" required maxlength="120"></label>
        <label>Kind <select name="kind">${RULE_KINDS.map((k) => html`<option value=${k}>${words(k)}</option>`)}</select></label>
        <label>Points <input name="points" type="number" min="0" max="100" value="10"></label>
      </div>
      <label>Parameters (JSON) <textarea name="params" rows="3">{}</textarea></label>
      ${actionInputs([{ kind: "FLAG_REVIEW" }])}
      <div class="row"><label style="flex:1">Reason <input name="reason" maxlength="500" placeholder="Why (audited)"></label>
        <button class="primary" type="submit">Create</button>
        <button type="button" @click=${() => { this.creating = false; this.problem = ""; }}>Cancel</button></div>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
    </form>`;
  }

  async save(event, rule) {
    event.preventDefault();
    const form = event.target;
    const params = parsedParams(form);
    if (params.problem) {
      this.problem = params.problem;
      return;
    }
    const data = new FormData(form);
    const input = { code: rule.code, version: rule.version, name: data.get("name"), points: Number(data.get("points")),
      params: params.value, actions: checkedActions(form), enabled: data.get("enabled") === "on", reason: data.get("reason") };
    const result = await client.mutate(`mutation($input: UpdateRiskRuleInput!) { updateRiskRule(input: $input) {
      rule { code version } errors { code field message } } }`, { input });
    this.problem = problemWithField(result, "updateRiskRule");
    if (!this.problem) {
      const saved = result.data.updateRiskRule.rule;
      this.message = `Saved ${saved.code} (version ${saved.version}).`;
      this.editing = null;
      this.reload();
    }
  }

  async create(event) {
    event.preventDefault();
    const form = event.target;
    const params = parsedParams(form);
    if (params.problem) {
      this.problem = params.problem;
      return;
    }
    const data = new FormData(form);
    const input = { code: data.get("code"), name: data.get("name"), kind: data.get("kind"),
      points: Number(data.get("points")), params: params.value, actions: checkedActions(form), reason: data.get("reason") };
    const result = await client.mutate(`mutation($input: CreateRiskRuleInput!) { createRiskRule(input: $input) {
      rule { code } errors { code field message } } }`, { input });
    this.problem = problemWithField(result, "createRiskRule");
    if (!this.problem) {
      this.message = `Created ${result.data.createRiskRule.rule.code}.`;
      this.creating = false;
      this.reload();
    }
  }
}

// ---- the player 360: score, reasons, restrictions ------------------------------------------------

const SCORE = `query PlayerRiskScore($id: ID!) { player(id: $id) { risk {
  score { value reasons { ruleCode points reason hits lastHitAt expiresAt } }
  restrictions { id kind level psps ruleCode reason imposedAt expiresAt } } } }`;

class PlayerRiskScore extends PlayerSection {
  static properties = { ...PlayerSection.properties, problem: { state: true }, message: { state: true } };
  heading = "Risk score";
  field = "risk";
  query = SCORE;

  renderData(data) {
    const { score, restrictions } = data.player.risk;
    const mayLift = viewer.can("Mutation.liftRiskAction");
    return html`
      <p>Score ${scoreBadge(score.value)} <span class="muted">of 100</span></p>
      ${score.reasons.length ? html`<table aria-label="Score reasons">
        <thead><tr><th>Rule</th><th class="num">Points</th><th>Reason</th><th class="num">Hits</th><th>Last hit</th><th>Counts until</th></tr></thead>
        <tbody>${score.reasons.map((r) => html`<tr><td><code>${r.ruleCode}</code></td><td class="num">+${r.points}</td>
          <td>${r.reason}</td><td class="num">${r.hits}</td><td>${when(r.lastHitAt)}</td><td>${when(r.expiresAt)}</td></tr>`)}
        </tbody></table>` : html`<p class="state">No rule has found anything.</p>`}
      <h4 style="margin:.75rem 0 .25rem">Restrictions in force</h4>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${restrictions.length ? html`<table aria-label="Restrictions">
        <thead><tr><th>Restriction</th><th>By</th><th>Reason</th><th>Since</th><th>Until</th><th></th></tr></thead>
        <tbody>${restrictions.map((r) => html`<tr data-restriction=${r.kind}>
          <td>${actionWords(r)}</td><td>${r.ruleCode ? html`rule <code>${r.ruleCode}</code>` : "staff"}</td>
          <td>${r.reason}</td><td>${when(r.imposedAt)}</td><td>${r.expiresAt ? when(r.expiresAt) : "until lifted"}</td>
          <td>${mayLift ? html`<form class="row" aria-label="Lift ${words(r.kind)}" @submit=${(e) => this.lift(e, r)}>
            <input name="reason" required maxlength="500" aria-label="Why lift it" placeholder="why">
            <button class="danger" type="submit">Lift</button></form>` : nothing}</td></tr>`)}</tbody></table>`
        : html`<p class="state">No restriction in force.</p>`}
      ${viewer.can("Mutation.imposeRiskAction") ? this.imposeForm() : nothing}`;
  }

  imposeForm() {
    return html`<form class="row" aria-label="Impose a restriction" style="margin-top:.75rem" @submit=${this.impose}>
      <label>Restriction <select name="kind">${STAFF_KINDS.map((k) => html`<option value=${k}>${words(k)}</option>`)}</select></label>
      <label>KYC level <input name="level" size="12" placeholder="if required"></label>
      <label>PSPs <input name="psps" size="12" placeholder="if routed"></label>
      <label style="flex:1">Reason <input name="reason" required maxlength="500" placeholder="Why (audited)"></label>
      <button type="submit">Impose</button></form>`;
  }

  async impose(event) {
    event.preventDefault();
    const element = event.target;
    const data = new FormData(element);
    const kind = data.get("kind");
    const input = { playerId: this.playerId, kind, reason: data.get("reason"),
      level: kind === "REQUIRE_KYC_LEVEL" ? String(data.get("level")).trim() || null : null,
      psps: kind === "ROUTE_PSPS" ? String(data.get("psps")).split(",").map((p) => p.trim()).filter(Boolean) : null };
    const result = await client.mutate(`mutation($input: ImposeRiskActionInput!) { imposeRiskAction(input: $input) {
      restriction { kind } errors { code field message } } }`, { input });
    this.problem = mutationProblem(result, "imposeRiskAction");
    this.message = this.problem ? "" : `Imposed: ${words(kind)}.`;
    if (!this.problem) {
      element.reset();
      this.reload();
    }
  }

  async lift(event, restriction) {
    event.preventDefault();
    const reason = new FormData(event.target).get("reason");
    const result = await client.mutate(`mutation($input: LiftRiskActionInput!) { liftRiskAction(input: $input) {
      releasedWithdrawals errors { code field message } } }`, { input: { actionId: restriction.id, reason } });
    this.problem = mutationProblem(result, "liftRiskAction");
    const released = result.data?.liftRiskAction?.releasedWithdrawals ?? 0;
    this.message = this.problem ? ""
      : `Lifted: ${words(restriction.kind)}.${released ? ` ${released} held withdrawal${released === 1 ? "" : "s"} released.` : ""}`;
    if (!this.problem) {
      this.reload();
      if (released) this.dispatchEvent(new CustomEvent("adjusted", { bubbles: true, composed: true }));
    }
  }
}

customElements.define("cr-risk-queue", RiskQueue);
customElements.define("cr-risk-rules", RiskRules);
customElements.define("cr-player-risk-score", PlayerRiskScore);
