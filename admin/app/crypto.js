/**
 * Crypto payments (finance, support, risk: whoever reads payments): the on-chain transfers behind crypto
 * deposits and withdrawals, newest first, filtered by direction and asset. A deposit shows its
 * confirmations against those required before it is credited, the chain's exact amount, the dust the ledger
 * cannot hold and the rate it was locked at (fiat wallets); a withdrawal its destination's screening. The
 * payment's own state is the cashier's (the withdrawal queue decides withdrawals). A confirmed deposit a
 * deposit gate refused is `held` (in suspense, the gate's code shown): finance releases it to the player (the
 * gates are checked again) or refunds it to its sender (screened first), with a reason (audited). The buttons
 * show only to roles that may (`Mutation.releaseHeldCryptoDeposit` / `refundHeldCryptoDeposit`); the server
 * checks again.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, money, mutationProblem, pager, shortId, viewer, when, words } from "./ui.js";

const RELEASE = `mutation($input: HeldCryptoDepositInput!) { releaseHeldCryptoDeposit(input: $input) {
  transfer { id status paymentStatus } errors { code field message } } }`;
const REFUND = `mutation($input: HeldCryptoDepositInput!) { refundHeldCryptoDeposit(input: $input) {
  transfer { id status paymentStatus } errors { code field message } } }`;
const FIELD = { release: "releaseHeldCryptoDeposit", refund: "refundHeldCryptoDeposit" };

const TRANSFERS = `query CryptoTransfers($filter: CryptoTransferFilter, $after: String) {
  cryptoTransfers(filter: $filter, first: 25, after: $after) {
    edges { cursor node {
      id direction asset network address chainAmount dust txid confirmations requiredConfirmations status
      creditCurrency rate screening paymentStatus playerId createdAt assetAmount { amount currency }
      heldReason fee
    } }
    pageInfo { hasNextPage endCursor } } }`;

class CryptoTransfers extends QueryElement {
  static properties = { ...QueryElement.properties, direction: { state: true }, asset: { state: true },
                        status: { state: true }, message: { state: true }, problem: { state: true },
                        busy: { state: true } };
  query = TRANSFERS;
  emptyText = "No crypto transfer matches.";

  constructor() {
    super();
    this.direction = "";
    this.asset = "";
    this.status = "";
    this.message = "";
    this.problem = "";
    this.pages = [null];
  }

  get rootPath() {
    return ["cryptoTransfers"];
  }

  variables() {
    const filter = {};
    if (this.direction) filter.direction = this.direction;
    if (this.asset) filter.asset = this.asset;
    if (this.status) filter.status = this.status;
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
        <label>Status <select aria-label="Status" @change=${(e) => this.pick("status", e.target.value)}>
          ${["", "held", "confirming", "credited", "refunding", "refunded", "cancelled", "too_small", "requested"].map(
            (s) => html`<option value=${s}>${s ? words(s) : "any"}</option>`)}</select></label>
      </div>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card">${body}</div>`;
  }

  /** Release or refund one held deposit, with the reason written beside the buttons. */
  async decide(event, node, verdict) {
    const reason = String(new FormData(event.target.form).get("reason") ?? "").trim();
    if (!reason) {
      this.problem = "Write a reason: why release or refund it.";
      return;
    }
    this.busy = true;
    this.problem = this.message = "";
    try {
      const result = await client.mutate(verdict === "release" ? RELEASE : REFUND, { input: { transferId: node.id, reason } });
      const problem = mutationProblem(result, FIELD[verdict]);
      if (problem) {
        this.problem = problem;
      } else {
        this.message = verdict === "release"
          ? `Released ${money(node.assetAmount)} to the player.`
          : `Refunded ${money(node.assetAmount)} to the sender's address.`;
      }
    } finally {
      this.busy = false;
      this.reload();
    }
  }

  heldDecision(node) {
    const release = viewer.can("Mutation.releaseHeldCryptoDeposit");
    const refund = viewer.can("Mutation.refundHeldCryptoDeposit");
    if (node.status !== "held" || !(release || refund)) return nothing;
    return html`<form class="row" aria-label="Decide the held crypto deposit" @submit=${(e) => e.preventDefault()}>
      <input name="reason" aria-label="Reason" placeholder="why (audited)" maxlength="500">
      ${release ? html`<button class="primary" type="button" ?disabled=${this.busy}
        @click=${(e) => this.decide(e, node, "release")}>Release</button>` : nothing}
      ${refund ? html`<button class="danger" type="button" ?disabled=${this.busy}
        @click=${(e) => this.decide(e, node, "refund")}>Refund to sender</button>` : nothing}
    </form>`;
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
        <td>${badge(words(node.status))}${node.heldReason ? html`<br><small>held: ${node.heldReason}</small>` : nothing}
          ${node.txid ? html`<br><small title=${node.txid}>${node.txid.slice(0, 12)}…</small>` : nothing}
          ${node.fee ? html`<br><small>fee ${node.fee} ${node.asset}</small>` : nothing}
          ${this.heldDecision(node)}</td>
        <td>${node.paymentStatus ? badge(words(node.paymentStatus)) : "—"}</td>
        <td>${node.rate ? html`${node.rate} ${node.creditCurrency}` : nothing}
          ${node.screening ? html`<small>screening: ${node.screening.risk_level}</small>` : nothing}</td>
      </tr>`)}</tbody></table>
      ${pager(this, edges, pageInfo)}`;
  }
}

customElements.define("cr-crypto-transfers", CryptoTransfers);
