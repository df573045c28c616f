/**
 * The Reports screen's tables: cohort retention as a heat-map (each cell shaded by its rate, with the
 * rate and the counts written in it, so the colour is never the only carrier), lifetime value per
 * registration cohort, and the top games by GGR (finance). Cohorts follow the screen's grouping and are
 * counted as of today; periods in which nobody registered are left out.
 */
import { css, html } from "lit";
import { ReportSection, amounts, percent, periodLabel, utcToday } from "./report-common.js";
import { money } from "./ui.js";

const RETENTION_DAYS = [1, 7, 30];

class ReportRetention extends ReportSection {
  heading = "Cohort retention";
  emptyText = "Nobody registered in this range.";
  query = `query ReportRetention($start: Date!, $end: Date!, $asOf: Date!, $period: ReportPeriod!, $days: [Int!]) {
    reportRetention(start: $start, end: $end, asOf: $asOf, period: $period, days: $days) {
      start end size retention { day eligible retained rate } } }`;
  static styles = [ReportSection.styles, css`
    td.heat { min-width: 6.5rem; }
    td.heat .count { display: block; font-size: .75rem; opacity: .85; }
    td.heat.due { color: var(--muted); font-style: italic; }
  `];

  get rootPath() {
    return ["reportRetention"];
  }

  variables() {
    const { start, end, period } = this.window;
    return { start, end, period, asOf: utcToday(), days: RETENTION_DAYS };
  }

  isEmpty(data) {
    return !data?.reportRetention?.some((cohort) => cohort.size);
  }

  renderData(data) {
    const cohorts = data.reportRetention.filter((cohort) => cohort.size);
    return html`<table aria-describedby="retention-note">
      <caption id="retention-note" class="muted" style="text-align:left;caption-side:bottom;padding-top:.5rem">
        Of each cohort's players whose day n has come, the share who placed a bet on it (as of ${utcToday()}).
        Darker cells: more of the cohort came back.</caption>
      <thead><tr><th scope="col">Registered</th><th scope="col" class="num">Players</th>
        ${RETENTION_DAYS.map((day) => html`<th scope="col" class="num">D${day}</th>`)}</tr></thead>
      <tbody>${cohorts.map((cohort) => html`<tr data-cohort=${cohort.start}>
        <th scope="row">${periodLabel(cohort)}</th><td class="num">${cohort.size}</td>
        ${RETENTION_DAYS.map((day) => heat(cohort.retention.find((point) => point.day === day)))}
      </tr>`)}</tbody></table>`;
  }
}

/** A heat-map cell: shaded from pale (none came back) to deep blue (all did), white text on the darker
 * shades so the figures keep their contrast. */
function heat(point) {
  if (!point?.eligible) {
    return html`<td class="num heat due" data-day=${point?.day ?? ""}>not yet due</td>`;
  }
  const rate = Number(point.rate);
  const lightness = 96 - Math.round(rate * 60);
  return html`<td class="num heat" data-day=${point.day} data-rate=${point.rate}
    style="background: hsl(228 68% ${lightness}%); color: ${lightness < 58 ? "white" : "var(--ink)"}">
    ${percent(point.rate, 1)} <span class="count">${point.retained} of ${point.eligible}</span></td>`;
}

class ReportValue extends ReportSection {
  heading = "Lifetime value by registration cohort";
  emptyText = "Nobody registered in this range.";
  query = `query ReportValue($start: Date!, $end: Date!, $asOf: Date!, $period: ReportPeriod!, $currency: String) {
    reportLifetimeValue(start: $start, end: $end, asOf: $asOf, period: $period, reportingCurrency: $currency) {
      start end size ngr { amount currency } ltv { amount currency }
      convertedNgr { amount currency } convertedLtv { amount currency } } }`;

  get rootPath() {
    return ["reportLifetimeValue"];
  }

  variables() {
    const { start, end, period, currency } = this.window;
    return { start, end, period, currency, asOf: utcToday() };
  }

  isEmpty(data) {
    return !data?.reportLifetimeValue?.some((cohort) => cohort.size);
  }

  renderData(data) {
    const converted = Boolean(this.window.currency);
    const cohorts = data.reportLifetimeValue.filter((cohort) => cohort.size);
    return html`<table>
      <thead><tr><th scope="col">Registered</th><th scope="col" class="num">Players</th>
        <th scope="col" class="num">NGR to date</th><th scope="col" class="num">LTV (NGR per player)</th></tr></thead>
      <tbody>${cohorts.map((cohort) => html`<tr data-cohort=${cohort.start}>
        <th scope="row">${periodLabel(cohort)}</th><td class="num">${cohort.size}</td>
        <td class="num">${converted ? amounts([cohort.convertedNgr]) : amounts(cohort.ngr)}</td>
        <td class="num">${converted ? amounts([cohort.convertedLtv]) : amounts(cohort.ltv)}</td>
      </tr>`)}</tbody></table>`;
  }
}

const TOP_GAMES = 20;

class ReportGames extends ReportSection {
  heading = `Top ${TOP_GAMES} games by GGR`;
  emptyText = "No game was played in this range.";
  query = `query ReportGames($start: Date!, $end: Date!, $currency: String, $limit: Int!) {
    reportGames(start: $start, end: $end, reportingCurrency: $currency, limit: $limit) {
      provider game turnover { amount currency } wins { amount currency } ggr { amount currency } hold
      betCount winCount rollbackCount } }`;

  get rootPath() {
    return ["reportGames"];
  }

  variables() {
    const { start, end, currency } = this.window;
    return { start, end, currency, limit: TOP_GAMES };
  }

  isEmpty(data) {
    return !data?.reportGames?.length;
  }

  renderData(data) {
    return html`<table>
      <thead><tr><th scope="col">Game</th><th scope="col">Provider</th><th scope="col" class="num">Turnover</th>
        <th scope="col" class="num">Wins</th><th scope="col" class="num">GGR</th><th scope="col" class="num">Hold</th>
        <th scope="col" class="num">Bets</th><th scope="col" class="num">Rollbacks</th></tr></thead>
      <tbody>${data.reportGames.map((g) => html`<tr data-game=${g.game}>
        <th scope="row">${g.game}</th><td>${g.provider}</td><td class="num">${money(g.turnover)}</td>
        <td class="num">${money(g.wins)}</td><td class="num">${money(g.ggr)}</td><td class="num">${percent(g.hold)}</td>
        <td class="num">${g.betCount}</td><td class="num">${g.rollbackCount}</td>
      </tr>`)}</tbody></table>`;
  }
}

customElements.define("cr-report-retention", ReportRetention);
customElements.define("cr-report-value", ReportValue);
customElements.define("cr-report-games", ReportGames);
