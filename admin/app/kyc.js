/**
 * KYC: the player 360's verification section (level, the level required and why, what is next; officers
 * decide the next level, restrict, mark high risk, record a provider's result; the identity check at the
 * verification provider, as its webhooks left it) and the KYC officers' review queue. Support and finance see the section read-only; officers' forms show only to roles that
 * may use them (`viewer.can`), and the server refuses the rest anyway.
 */
import { html, nothing } from "lit";
import { PlayerSection } from "./player.js";
import { QueryElement, badge, client, mutationProblem, playerName, viewer, when, words } from "./ui.js";

const KYC = `query Kyc($id: ID!) { player(id: $id) { kyc { level requiredLevel status levels nextLevel reason
  requested restricted highRisk updatedAt nextSteps { requirement nextStep playerCanAct }
  verification { provider status reviewAnswer rejectType rejectLabels reviewedAt } } } }`;

/** The identity check at the provider in a line: "sumsub: completed, RED (RETRY: UNSATISFACTORY_PHOTOS)". */
export function identityCheck(check) {
  if (!check) return "not started";
  const result = check.reviewAnswer ? `, ${check.reviewAnswer}` : "";
  const rejected = check.rejectType ? ` (${check.rejectType}${check.rejectLabels.length ? `: ${check.rejectLabels.join(", ")}` : ""})` : "";
  return `${check.provider}: ${words(check.status)}${result}${rejected}`;
}

/** A trigger's figures in a line: "lifetime deposits: 2100.00 EUR (threshold 2000.00 EUR)". */
export function why(reason) {
  if (!reason?.trigger) return "—";
  const figures = reason.figure ? `: ${reason.figure} ${reason.currency} (threshold ${reason.threshold} ${reason.currency}` +
    `${reason.window_days ? `, ${reason.window_days} days` : ""})` : reason.signal ? `: ${reason.signal}` : "";
  return `${words(reason.trigger)}${figures}`;
}

class PlayerKyc extends PlayerSection {
  static properties = { ...PlayerSection.properties, problem: { state: true }, message: { state: true } };
  heading = "KYC";
  field = "kyc";
  query = KYC;

  renderData(data) {
    const kyc = data.player.kyc;
    return html`<dl>
        <dt>Status</dt><dd>${badge(kyc.status)}${kyc.highRisk ? html` ${badge("high risk")}` : nothing}</dd>
        <dt>Level</dt><dd>${words(kyc.level)} <span class="muted">(of ${kyc.levels.map(words).join(" → ")})</span></dd>
        <dt>Required</dt><dd>${words(kyc.requiredLevel)}</dd>
        <dt>Why</dt><dd>${why(kyc.reason)}</dd>
        ${kyc.requested ? html`<dt>Asked for</dt><dd>${kyc.requested}</dd>` : nothing}
        <dt>Identity check</dt><dd data-field="identity-check">${identityCheck(kyc.verification)}${kyc.verification?.reviewedAt
    ? html` <span class="muted">(reviewed ${when(kyc.verification.reviewedAt)})</span>` : nothing}</dd>
        <dt>Changed</dt><dd>${when(kyc.updatedAt)}</dd>
      </dl>
      ${kyc.nextSteps.length ? html`<h4 style="margin:1rem 0 .25rem">Next: ${words(kyc.nextLevel)}</h4>
        <ul>${kyc.nextSteps.map((s) => html`<li>${s.requirement}: ${s.nextStep}</li>`)}</ul>` : nothing}
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${this.officerForms(kyc)}`;
  }

  officerForms(kyc) {
    const next = kyc.nextLevel ?? kyc.levels[kyc.levels.indexOf(kyc.level) + 1];
    return html`
      ${next && viewer.can("Mutation.kycApproveLevel") ? html`<form class="row" aria-label="Decide the next level"
          @submit=${(e) => this.decideLevel(e, next)} style="margin-top:.75rem">
        <label style="flex:1">Reason or request (${words(next)}) <input name="reason" required maxlength="500"></label>
        <button class="primary" name="approve" type="submit">Approve level</button>
        <button name="more" type="submit">Request more</button>
        <button class="danger" name="reject" type="submit">Reject</button></form>` : nothing}
      ${viewer.can("Mutation.kycRestrict") ? html`<form class="row" aria-label="Restriction" style="margin-top:.75rem"
          @submit=${(e) => this.restriction(e, kyc.restricted)}>
        <label style="flex:1">Restriction reason <input name="reason" required maxlength="500"></label>
        <button type="submit" class=${kyc.restricted ? "" : "danger"}>${kyc.restricted ? "Lift restriction" : "Restrict account"}</button>
      </form>` : nothing}`;
  }

  async run(mutation, field, input, done) {
    const result = await client.mutate(mutation, { input: { playerId: this.playerId, ...input } });
    this.problem = mutationProblem(result, field);
    this.message = this.problem ? "" : done(result.data[field]);
    if (!this.problem) this.reload();
  }

  decideLevel(event, level) {
    event.preventDefault();
    const reason = new FormData(event.target).get("reason");
    const which = event.submitter?.name ?? "approve";
    if (which === "more") {
      return this.run(`mutation($input: KycRequestMoreInput!) { kycRequestMore(input: $input) { errors { code message } } }`,
        "kycRequestMore", { level, what: reason }, () => `Asked the player for more (${words(level)}).`);
    }
    if (which === "reject") {
      return this.run(`mutation($input: KycLevelDecisionInput!) { kycRejectLevel(input: $input) {
        errors { code message } } }`, "kycRejectLevel", { level, reason }, () => `Rejected ${words(level)}.`);
    }
    return this.run(`mutation($input: KycLevelDecisionInput!) { kycApproveLevel(input: $input) {
      awaitingSecondApproval errors { code message } } }`, "kycApproveLevel", { level, reason },
    (answer) => (answer.awaitingSecondApproval
      ? `First approval recorded: a second KYC officer must approve ${words(level)}.` : `Approved ${words(level)}.`));
  }

  restriction(event, restricted) {
    event.preventDefault();
    const reason = new FormData(event.target).get("reason");
    if (restricted) {
      return this.run(`mutation($input: KycRestrictionInput!) { kycLiftRestriction(input: $input) {
        errors { code message } } }`, "kycLiftRestriction", { reason }, () => "Restriction lifted.");
    }
    return this.run(`mutation($input: KycRestrictionInput!) { kycRestrict(input: $input) { errors { code message } } }`,
      "kycRestrict", { reason }, () => "Account restricted pending review.");
  }
}

const STATUSES = ["", "ACTION_REQUIRED", "PENDING_REVIEW", "RESTRICTED"];

class KycQueue extends QueryElement {
  static properties = { ...QueryElement.properties, status: { state: true } };
  query = `query KycQueue($status: KycStatus, $first: Int = 50) { kycReviewQueue(status: $status, first: $first) {
    edges { node { level requiredLevel requiredTrigger status highRisk updatedAt
      player { id email firstName lastName } } } } }`;
  emptyText = "No player waits for a KYC decision.";

  constructor() {
    super();
    this.status = "";
  }

  get rootPath() {
    return ["kycReviewQueue"];
  }

  variables() {
    return { status: this.status || null };
  }

  isEmpty(data) {
    return !data?.kycReviewQueue?.edges?.length;
  }

  frame(body) {
    return html`<h2>KYC review queue</h2>
      <cr-queue-counts counts="kycLevelReviews kycDocuments"></cr-queue-counts>
      <div class="row" style="margin-bottom:.75rem"><label>Status <select @change=${(e) => { this.status = e.target.value; this.reload(); }}>
        ${STATUSES.map((s) => html`<option value=${s} ?selected=${this.status === s}>${s ? words(s) : "needing attention"}</option>`)}
      </select></label></div>
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    return html`<table>
      <thead><tr><th>Changed</th><th>Player</th><th>Level</th><th>Required</th><th>Why</th><th>Status</th></tr></thead>
      <tbody>${data.kycReviewQueue.edges.map(({ node }) => html`<tr>
        <td>${when(node.updatedAt)}</td>
        <td><a href="#/players/${encodeURIComponent(node.player?.id ?? "")}">${playerName(node.player)}</a></td>
        <td>${words(node.level)}</td><td>${words(node.requiredLevel)}</td><td>${words(node.requiredTrigger ?? "—")}</td>
        <td>${badge(node.status)}${node.highRisk ? html` ${badge("high risk")}` : nothing}</td>
      </tr>`)}</tbody></table>`;
  }
}

customElements.define("cr-player-kyc", PlayerKyc);
customElements.define("cr-kyc-queue", KycQueue);
