/**
 * The player's AML records on the player 360: cases (each linking to the case screen), transaction-
 * monitoring alerts and screening matches (linking to their queues). Sections for the AML desk only: for
 * any other role the policy refuses the field and the section does not appear (nothing to tip off).
 */
import { html, nothing } from "lit";
import { PlayerSection } from "./player.js";
import { badge, when, words } from "./ui.js";

class PlayerAmlCases extends PlayerSection {
  heading = "AML cases";
  field = "amlCases";
  emptyText = "No AML case about this player.";
  query = `query PlayerAmlCases($id: ID!, $first: Int) { player(id: $id) { amlCases(first: $first) {
    edges { node { id caseType source state outcome dueAt overdue restricted createdAt } } pageInfo { hasNextPage } } } }`;

  renderData(data) {
    return html`<table>
      <thead><tr><th>Opened</th><th>Type</th><th>Source</th><th>State</th><th>Due</th></tr></thead>
      <tbody>${this.nodes(data).map((c) => html`<tr data-case=${c.id}>
        <td><a href="#/aml-cases/${encodeURIComponent(c.id)}">${when(c.createdAt)}</a></td>
        <td>${words(c.caseType)}</td><td>${words(c.source)}</td>
        <td>${badge(c.outcome ? `closed: ${c.outcome}` : c.state)} ${c.restricted ? badge("restricted") : nothing}</td>
        <td>${when(c.dueAt)} ${c.overdue ? html`<span class="badge bad">overdue</span>` : nothing}</td>
      </tr>`)}</tbody></table>${this.more(data)}`;
  }
}

class PlayerAmlAlerts extends PlayerSection {
  heading = "Monitoring alerts";
  field = "amlAlerts";
  emptyText = "No monitoring alert about this player.";
  query = `query PlayerAmlAlerts($id: ID!, $first: Int) { player(id: $id) { amlAlerts(first: $first) {
    edges { node { id raisedAt score outcome status hits { rule } } } pageInfo { hasNextPage } } } }`;

  renderData(data) {
    return html`<table>
      <thead><tr><th>Raised</th><th>Rules</th><th class="num">Score</th><th>Outcome</th><th>Status</th></tr></thead>
      <tbody>${this.nodes(data).map((a) => html`<tr data-alert=${a.id}>
        <td><a href="#/aml-alerts">${when(a.raisedAt)}</a></td><td>${a.hits.map((h) => h.rule).join(", ")}</td>
        <td class="num">${a.score}</td><td>${words(a.outcome)}</td><td>${badge(a.status)}</td>
      </tr>`)}</tbody></table>${this.more(data)}`;
  }
}

class PlayerScreeningMatches extends PlayerSection {
  heading = "Screening matches";
  field = "screeningAlerts";
  emptyText = "No sanctions or PEP match for this player.";
  query = `query PlayerScreening($id: ID!, $first: Int) { player(id: $id) { screeningAlerts(first: $first) {
    edges { node { id createdAt state score entity { caption } } } pageInfo { hasNextPage } } } }`;

  renderData(data) {
    return html`<table>
      <thead><tr><th>Matched</th><th>Listed as</th><th class="num">Score</th><th>State</th></tr></thead>
      <tbody>${this.nodes(data).map((a) => html`<tr data-match=${a.id}>
        <td><a href="#/screening">${when(a.createdAt)}</a></td><td>${a.entity?.caption ?? "—"}</td>
        <td class="num">${a.score}</td><td>${badge(a.state)}</td>
      </tr>`)}</tbody></table>${this.more(data)}`;
  }
}

customElements.define("cr-player-aml-cases", PlayerAmlCases);
customElements.define("cr-player-aml-alerts", PlayerAmlAlerts);
customElements.define("cr-player-screening-matches", PlayerScreeningMatches);
