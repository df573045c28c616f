/**
 * Crypto payments (finance, support, risk: whoever reads payments): the on-chain transfers behind crypto
 * deposits and withdrawals, newest first, filtered by direction and asset. A deposit shows its
 * confirmations against those required before it is credited, the chain's exact amount, the dust the ledger
 * cannot hold and the rate it was locked at (fiat wallets); a withdrawal its destination's screening. The
 * payment's own state is the cashier's (the withdrawal queue decides withdrawals; nothing is decided here).
 */
import { html, nothing } from "lit";
import { QueryElement, badge, money, pager, shortId, when, words } from "./ui.js";

const TRANSFERS = `query CryptoTransfers($filter: CryptoTransferFilter, $after: String) {
  cryptoTransfers(filter: $filter, first: 25, after: $after) {
    edges { cursor node {
      id direction asset network address chainAmount dust txid confirmations requiredConfirmations status
      creditCurrency rate screening paymentStatus playerId createdAt assetAmount { amount currency }
    } }
    pageInfo { hasNextPage endCursor } } }`;

class CryptoTransfers extends QueryElement {
  static properties = { ...QueryElement.properties, direction: { state: true }, asset: { state: true } };
  query = TRANSFERS;
  emptyText = "No crypto transfer matches.";

  constructor() {
    super();
    this.direction = "";
    this.asset = "";
    this.pages = [null];
  }

  get rootPath() {
    return ["cryptoTransfers"];
  }

  variables() {
    const filter = {};
    if (this.direction) filter.direction = this.direction;
    if (this.asset) filter.asset = this.asset;
    return { filter, after: this.pages[this.pages.length - 1] };
  }

  isEmpty(data) {
    return !data?.cryptoTransfers?.edges?.length;
  }

  pick(name, value) {
    this[name] = value;
    this.pages = [null];
    this.reload();
  }

  frame(body) {
    return html`<h2>Crypto payments</h2>
      <div class="row" role="search">
        <label>Direction <select aria-label="Direction" @change=${(e) => this.pick("direction", e.target.value)}>
          ${[["", "any"], ["DEPOSIT", "deposits"], ["WITHDRAWAL", "withdrawals"]].map(([value, label]) =>
            html`<option value=${value}>${label}</option>`)}</select></label>
        <label>Asset <select aria-label="Asset" @change=${(e) => this.pick("asset", e.target.value)}>
          ${["", "BTC", "ETH", "USDT"].map((a) => html`<option value=${a}>${a || "any"}</option>`)}</select></label>
      </div>
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    const { edges, pageInfo } = data.cryptoTransfers;
    return html`<table>
      <thead><tr><th scope="col">Seen</th><th scope="col">Player</th><th scope="col">Direction</th>
        <th scope="col" class="num">Amount</th><th scope="col">Address</th><th scope="col">Confirmations</th>
        <th scope="col">Transfer</th><th scope="col">Payment</th><th scope="col">Rate / screening</th></tr></thead>
      <tbody>${edges.map(({ node }) => html`<tr data-transfer=${node.id}>
        <td>${when(node.createdAt)}</td>
        <td><a href="#/players/${encodeURIComponent(node.playerId)}">${shortId(node.playerId)}</a></td>
        <td>${words(node.direction)}</td>
        <td class="num" title="on chain: ${node.chainAmount} ${node.asset}">${money(node.assetAmount)}
          ${node.dust !== "0" ? html`<br><small>dust ${node.dust}</small>` : nothing}</td>
        <td><code title=${node.address}>${node.address.slice(0, 14)}…</code> <small>${node.network}</small></td>
        <td>${node.direction === "DEPOSIT" ? `${node.confirmations} / ${node.requiredConfirmations}` : "—"}</td>
        <td>${badge(words(node.status))}${node.txid ? html`<br><small title=${node.txid}>${node.txid.slice(0, 12)}…</small>` : nothing}</td>
        <td>${node.paymentStatus ? badge(words(node.paymentStatus)) : "—"}</td>
        <td>${node.rate ? html`${node.rate} ${node.creditCurrency}` : nothing}
          ${node.screening ? html`<small>screening: ${node.screening.risk_level}</small>` : nothing}</td>
      </tr>`)}</tbody></table>
      ${pager(this, edges, pageInfo)}`;
  }
}

customElements.define("cr-crypto-transfers", CryptoTransfers);
