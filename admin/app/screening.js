/**
 * Sanctions and PEP screening: the match review queue. Each open alert shows the player, the list
 * entity as listed (names in their scripts, birth dates, countries, topics) and why it matched (the
 * names compared, the token pairs, the date-of-birth and country verdicts). A KYC officer or risk
 * analyst decides with a reason: a false positive (remembered for the pair) or a confirmed match
 * (recorded, and an AML case follows from its event).
 */
import { html, nothing } from "lit";
import { QueryElement, client, mutationProblem, playerName, viewer, when } from "./ui.js";

class Screening extends QueryElement {
  static properties = {
    ...QueryElement.properties,
    message: { state: true },
    problem: { state: true },
    reasons: { state: true },
  };
  query = `query Screening { screeningAlerts(filter: {state: OPEN}, first: 50) { edges { node {
      id score createdAt listVersion
      entity { id caption names birthDates countries topics }
      why { listedName playerName comparedAs nameScore birthDate country tokens { listed player similarity } }
      player { id email firstName lastName dateOfBirth country } } } } }`;
  emptyText = "No open screening alert.";

  constructor() {
    super();
    this.reasons = {};
  }

  get rootPath() {
    return ["screeningAlerts"];
  }

  isEmpty(data) {
    return !data.screeningAlerts.edges.length;
  }

  frame(body) {
    return html`<h2>Screening matches</h2>
      <cr-queue-counts counts="screeningMatches amlAlerts"></cr-queue-counts>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}${body}`;
  }

  renderData(data) {
    const decide = viewer.can("Mutation.decideScreeningAlert");
    return data.screeningAlerts.edges.map(({ node: a }) => html`
      <section class="card" style="margin-bottom:1rem" aria-label="Match of ${playerName(a.player)}">
        <h3>${playerName(a.player)} — ${a.entity.caption} <span class="badge warn">${Math.round(a.score * 100)}%</span></h3>
        <p class="muted">Raised ${when(a.createdAt)} · list ${a.listVersion} · ${a.entity.topics.join(", ")}</p>
        <table><tbody>
          <tr><th>Player</th><td><a href="#/players/${encodeURIComponent(a.player?.id ?? "")}">${a.why.playerName}</a>
            ${a.player?.dateOfBirth ?? ""} ${a.player?.country ?? ""}</td></tr>
          <tr><th>Listed as</th><td>${a.entity.names.join(" · ")}</td></tr>
          <tr><th>Listed born / countries</th><td>${a.entity.birthDates.join(", ") || "—"} / ${a.entity.countries.join(", ") || "—"}</td></tr>
          <tr><th>Why</th><td>"${a.why.listedName}" compared as ${a.why.comparedAs}: name ${Math.round(a.why.nameScore * 100)}%
            (${a.why.tokens.map((t) => `${t.listed} ~ ${t.player} ${Math.round(t.similarity * 100)}%`).join(", ")});
            birth date ${a.why.birthDate ?? "not compared"}, country ${a.why.country ?? "not compared"}</td></tr>
        </tbody></table>
        ${decide ? html`<div class="row" style="margin-top:.5rem">
          <label>Reason <input .value=${this.reasons[a.id] ?? ""} @input=${(e) => { this.reasons = { ...this.reasons, [a.id]: e.target.value }; }}></label>
          <button @click=${() => this.decide(a, "FALSE_POSITIVE")}>False positive</button>
          <button class="danger" @click=${() => this.decide(a, "CONFIRMED")}>Confirmed match</button></div>` : nothing}
      </section>`);
  }

  async decide(alert, decision) {
    const result = await client.mutate(`mutation($input: DecideScreeningAlertInput!) { decideScreeningAlert(input: $input) {
      alert { state } errors { code field message } } }`,
    { input: { alertId: alert.id, decision, reason: this.reasons[alert.id] ?? "" } });
    this.problem = mutationProblem(result, "decideScreeningAlert");
    this.message = this.problem ? "" : `${alert.entity.caption}: ${decision === "CONFIRMED" ? "confirmed match" : "false positive"} recorded.`;
    await this.reload();
  }
}

customElements.define("cr-screening", Screening);
