/**
 * Stats: the partner's clicks, registrations, first deposits (FTDs), deposits and NGR for a period, by
 * day, sub-id, link or brand (`affiliatePortal.stats`: aggregated by the server, for the partner's own
 * players only), with a total line per currency.
 */
import { html, nothing } from "lit";
import { words } from "/admin/app/ui.js";
import { PortalQuery, amount, count, period, totalsByCurrency } from "./portal.js";

export const STATS = `query PortalStats($from: Date!, $to: Date!, $groupBy: AffiliateStatsGroup!) {
  affiliatePortal { stats(from: $from, to: $to, groupBy: $groupBy) {
    key label clicks registrations ftds ftdAmount deposits ngr currency } } }`;

const GROUPS = { DAY: "Day", SUB_ID: "Sub-id", LINK: "Link", BRAND: "Brand" };

/** One line per currency: the rows' counts and amounts added up. */
export function totals(rows) {
  return totalsByCurrency(rows, { counts: ["clicks", "registrations", "ftds"], amounts: ["ftdAmount", "deposits", "ngr"] });
}

class Stats extends PortalQuery {
  static properties = { ...PortalQuery.properties, groupBy: { state: true } };
  query = STATS;
  emptyText = "No activity in this period.";

  constructor() {
    super();
    this.groupBy = sessionStorage.getItem("croupier.portal.groupBy") ?? "DAY";
  }

  variables() {
    return { from: period.value.from, to: period.value.to, groupBy: this.groupBy };
  }

  isEmpty(data) {
    return !data?.affiliatePortal?.stats?.length;
  }

  _group(value) {
    this.groupBy = value;
    sessionStorage.setItem("croupier.portal.groupBy", value);
    this.reload();
  }

  frame(body) {
    return html`<h2>Stats</h2>
      <cp-period @period-change=${() => this.reload()}>
        <label>Group by <select @change=${(e) => this._group(e.target.value)}>
          ${Object.entries(GROUPS).map(([value, label]) => html`<option value=${value} ?selected=${this.groupBy === value}>${label}</option>`)}
        </select></label>
      </cp-period>
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    const rows = data.affiliatePortal.stats;
    return html`<table aria-label="Stats by ${words(GROUPS[this.groupBy])}">
      <thead><tr><th>${GROUPS[this.groupBy]}</th><th class="num">Clicks</th><th class="num">Registrations</th>
        <th class="num">FTDs</th><th class="num">FTD amount</th><th class="num">Deposits</th><th class="num">NGR</th></tr></thead>
      <tbody>${rows.map((row) => html`<tr data-key=${row.key ?? ""}>
        <td>${row.key || html`<span class="muted">none</span>`}${row.label ? html` <span class="muted">${row.label}</span>` : nothing}</td>
        ${figures(row)}</tr>`)}</tbody>
      <tfoot>${totals(rows).map((total) => html`<tr class="total" data-currency=${total.currency}>
        <th scope="row">Total${total.currency ? ` (${total.currency})` : nothing}</th>${figures(total)}</tr>`)}</tfoot>
    </table>`;
  }
}

function figures(row) {
  return html`<td class="num">${count(row.clicks)}</td><td class="num">${count(row.registrations)}</td>
    <td class="num">${count(row.ftds)}</td><td class="num">${amount(row.ftdAmount, row.currency)}</td>
    <td class="num">${amount(row.deposits, row.currency)}</td><td class="num">${amount(row.ngr, row.currency)}</td>`;
}

customElements.define("cp-stats", Stats);
