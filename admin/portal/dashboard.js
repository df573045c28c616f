/**
 * The dashboard: the period's figures at a glance (clicks, registrations, FTDs and conversion, FTD amount,
 * deposits, NGR) and the commission the period earned, per currency. The commission is its own element:
 * a partner whose commissions cannot be read still sees the traffic.
 */
import { css, html } from "lit";
import { shared } from "/admin/app/ui.js";
import { COMMISSIONS, commissionTotals } from "./commissions.js";
import { PortalQuery, amount, count, period } from "./portal.js";
import { STATS, totals } from "./stats.js";

const tiles = css`
  .tiles { display: grid; grid-template-columns: repeat(auto-fill, minmax(11rem, 1fr)); gap: .75rem; }
  .tile { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: .75rem 1rem; }
  .tile .label { color: var(--muted); font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; }
  .tile .value { font-size: 1.35rem; font-variant-numeric: tabular-nums; }
  section { margin-top: 1.25rem; }
`;

function tile(label, value) {
  return html`<div class="tile" role="group" aria-label=${label}>
    <div class="label">${label}</div><div class="value">${value}</div></div>`;
}

/** "12.5 %", or "—" when nothing was clicked. */
function rate(part, whole) {
  return whole ? `${((100 * part) / whole).toFixed(1)} %` : "—";
}

class Dashboard extends PortalQuery {
  static styles = [shared, tiles];
  query = STATS;
  emptyText = "No clicks, registrations or deposits in this period yet.";

  variables() {
    return { from: period.value.from, to: period.value.to, groupBy: "BRAND" };
  }

  isEmpty(data) {
    return !data?.affiliatePortal?.stats?.length;
  }

  frame(body) {
    return html`<h2>Dashboard</h2>
      <cp-period @period-change=${() => { this.reload(); this.renderRoot.querySelector("cp-commission-tiles")?.reload(); }}></cp-period>
      ${body}
      <section aria-labelledby="earned"><h3 id="earned">Commission</h3><cp-commission-tiles></cp-commission-tiles></section>`;
  }

  renderData(data) {
    return totals(data.affiliatePortal.stats).map((total) => html`
      <div class="tiles" data-currency=${total.currency}>
        ${tile("Clicks", count(total.clicks))}
        ${tile("Registrations", count(total.registrations))}
        ${tile("FTDs", count(total.ftds))}
        ${tile("Click to FTD", rate(total.ftds, total.clicks))}
        ${tile("FTD amount", amount(total.ftdAmount, total.currency))}
        ${tile("Deposits", amount(total.deposits, total.currency))}
        ${tile("NGR", amount(total.ngr, total.currency))}
      </div>`);
  }
}

class CommissionTiles extends PortalQuery {
  static styles = [shared, tiles];
  query = COMMISSIONS;
  emptyText = "No commission for this period yet.";

  variables() {
    return { from: period.value.from, to: period.value.to };
  }

  isEmpty(data) {
    return !data?.affiliatePortal?.commissions?.length;
  }

  renderData(data) {
    return commissionTotals(data.affiliatePortal.commissions).map((total) => html`
      <div class="tiles" data-currency=${total.currency}>
        ${tile("CPA", amount(total.cpa, total.currency))}
        ${tile("RevShare", amount(total.revshare, total.currency))}
        ${tile("Second tier", amount(total.secondTier, total.currency))}
        ${tile("Total commission", amount(total.total, total.currency))}
      </div>`);
  }
}

customElements.define("cp-dashboard", Dashboard);
customElements.define("cp-commission-tiles", CommissionTiles);
