/**
 * Commissions: what the partner earned in the period's commission runs, per period, brand and sub-id —
 * CPA, RevShare and second tier, the total, and where the run stands (draft, approved, booked, paid) —
 * with a total line per currency. Drafts are shown as such: they may still change before approval.
 */
import { html } from "lit";
import { badge } from "/admin/app/ui.js";
import { PortalQuery, amount, period, totalsByCurrency } from "./portal.js";

export const COMMISSIONS = `query PortalCommissions($from: Date!, $to: Date!) {
  affiliatePortal { commissions(from: $from, to: $to) {
    periodStart periodEnd brandCode subId cpa revshare secondTier total currency runState } } }`;

/** One line per currency, amounts added exactly. */
export function commissionTotals(rows) {
  return totalsByCurrency(rows, { amounts: ["cpa", "revshare", "secondTier", "total"] });
}

class Commissions extends PortalQuery {
  query = COMMISSIONS;
  emptyText = "No commission run covers this period yet.";

  variables() {
    return { from: period.value.from, to: period.value.to };
  }

  isEmpty(data) {
    return !data?.affiliatePortal?.commissions?.length;
  }

  frame(body) {
    return html`<h2>Commissions</h2>
      <cp-period @period-change=${() => this.reload()}></cp-period>
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    const rows = data.affiliatePortal.commissions;
    return html`<table aria-label="Commissions">
      <thead><tr><th>Period</th><th>Brand</th><th>Sub-id</th><th class="num">CPA</th><th class="num">RevShare</th>
        <th class="num">Second tier</th><th class="num">Total</th><th>Run</th></tr></thead>
      <tbody>${rows.map((row) => html`<tr>
        <td>${row.periodStart} – ${row.periodEnd}</td><td>${row.brandCode}</td>
        <td>${row.subId ?? html`<span class="muted">none</span>`}</td>
        <td class="num">${amount(row.cpa, row.currency)}</td><td class="num">${amount(row.revshare, row.currency)}</td>
        <td class="num">${amount(row.secondTier, row.currency)}</td><td class="num">${amount(row.total, row.currency)}</td>
        <td>${badge(row.runState)}</td></tr>`)}</tbody>
      <tfoot>${commissionTotals(rows).map((total) => html`<tr class="total" data-currency=${total.currency}>
        <th scope="row" colspan="3">Total (${total.currency})</th>
        <td class="num">${amount(total.cpa, total.currency)}</td><td class="num">${amount(total.revshare, total.currency)}</td>
        <td class="num">${amount(total.secondTier, total.currency)}</td><td class="num">${amount(total.total, total.currency)}</td>
        <td></td></tr>`)}</tfoot>
    </table>`;
  }
}

customElements.define("cp-commissions", Commissions);
