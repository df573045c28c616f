/**
 * The player's closed loop on the player 360 (docs/closed-loop.md): per deposit method and instrument, what
 * deposits brought in, what went back (withdrawals, chargebacks), what staff waived and what withdrawals must
 * still send there before any other method; the exceptions with their reasons. Finance waives an open share
 * (an expired card, a closed e-wallet) with a reason, or revokes a waiver: both audited.
 */
import { html, nothing } from "lit";
import { PlayerSection } from "./player.js";
import { badge, money, runMutation, viewer, when, words } from "./ui.js";

const GRANT = `mutation GrantClosedLoopException($input: GrantClosedLoopExceptionInput!) {
  grantClosedLoopException(input: $input) { exception { id amount { amount currency } } errors { code field message } } }`;
const REVOKE = `mutation RevokeClosedLoopException($input: RevokeClosedLoopExceptionInput!) {
  revokeClosedLoopException(input: $input) { exception { id revokedAt } errors { code field message } } }`;

function masked(instrument) {
  if (!instrument) return "—";
  return instrument.length > 12 ? `${instrument.slice(0, 4)}…${instrument.slice(-4)}` : instrument;
}

class PlayerClosedLoop extends PlayerSection {
  static properties = { ...PlayerSection.properties, problem: { state: true }, message: { state: true },
                        busy: { state: true } };
  heading = "Closed loop";
  field = "closedLoop";
  query = `query PlayerClosedLoop($id: ID!) { player(id: $id) { closedLoop {
    currency enforced owed { amount currency }
    shares { method instrument psp deposited { amount currency } chargedBack { amount currency }
             sentBack { amount currency } waived { amount currency } owed { amount currency } }
    exceptions { id method instrument amount { amount currency } reason createdAt revokedAt revokeReason } } } }`;

  isEmpty(data) {
    return !data?.player?.closedLoop;
  }

  renderData(data) {
    const loop = data.player.closedLoop;
    const mayWaive = viewer.can("Mutation.grantClosedLoopException");
    return html`
      <p>${loop.enforced ? badge("enforced") : html`<span class="muted">not required by the player's jurisdiction</span>`}
        Owed back to the deposits' methods: <strong>${money(loop.owed)}</strong></p>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${loop.shares.length ? html`<table>
        <thead><tr><th>Method</th><th>Instrument</th><th class="num">Deposited</th><th class="num">Charged back</th>
          <th class="num">Sent back</th><th class="num">Waived</th><th class="num">Owed</th><th></th></tr></thead>
        <tbody>${loop.shares.map((s) => html`<tr data-share=${`${s.method}:${s.instrument}`}>
          <td>${words(s.method)}${s.psp ? ` · ${s.psp}` : ""}</td><td><code>${masked(s.instrument)}</code></td>
          <td class="num">${money(s.deposited)}</td><td class="num">${money(s.chargedBack)}</td>
          <td class="num">${money(s.sentBack)}</td><td class="num">${money(s.waived)}</td>
          <td class="num">${money(s.owed)}</td>
          <td>${mayWaive && Number(s.owed.amount) > 0 ? this.waiveForm(loop, s) : nothing}</td></tr>`)}</tbody>
      </table>` : html`<p class="state">No deposits in ${loop.currency} yet.</p>`}
      ${loop.exceptions?.length ? html`<h4>Exceptions</h4><table>
        <thead><tr><th>Granted</th><th>Method</th><th class="num">Waived</th><th>Reason</th><th>State</th></tr></thead>
        <tbody>${loop.exceptions.map((e) => html`<tr data-exception=${e.id}>
          <td>${when(e.createdAt)}</td><td>${words(e.method)} <code>${masked(e.instrument)}</code></td>
          <td class="num">${money(e.amount)}</td><td>${e.reason}</td>
          <td>${e.revokedAt ? html`${badge("revoked")} ${e.revokeReason ?? ""}`
            : mayWaive ? this.revokeForm(e) : badge("in force")}</td></tr>`)}</tbody></table>` : nothing}`;
  }

  waiveForm(loop, share) {
    return html`<form class="row" data-waive @submit=${(event) => this.waive(event, loop, share)}>
      <input name="amount" inputmode="decimal" pattern="[0-9]+([.][0-9]+)?" size="8" placeholder=${share.owed.amount}
        aria-label="Amount to waive (empty: all owed)">
      <input name="reason" required placeholder="Why (e.g. card expired)" aria-label="Reason">
      <button type="submit" ?disabled=${this.busy}>Waive</button></form>`;
  }

  revokeForm(exception) {
    return html`<form class="row" data-revoke @submit=${(event) => this.revoke(event, exception)}>
      <input name="reason" required placeholder="Why revoke" aria-label="Reason to revoke">
      <button type="submit" ?disabled=${this.busy}>Revoke</button></form>`;
  }

  async waive(event, loop, share) {
    event.preventDefault();
    const form = new FormData(event.target);
    const amount = String(form.get("amount") ?? "").trim();
    const done = await runMutation(this, GRANT, {
      playerId: this.playerId, currency: loop.currency, method: share.method, instrument: share.instrument,
      amount: amount || null, reason: String(form.get("reason")),
    }, "grantClosedLoopException");
    if (done) {
      this.message = `Waived ${money(done.exception.amount)}: withdrawals may go elsewhere for that much.`;
      this.reload();
    }
  }

  async revoke(event, exception) {
    event.preventDefault();
    const form = new FormData(event.target);
    const done = await runMutation(this, REVOKE, { exceptionId: exception.id, reason: String(form.get("reason")) },
      "revokeClosedLoopException");
    if (done) {
      this.message = `Revoked: ${money(exception.amount)} is owed to the deposit's method again.`;
      this.reload();
    }
  }
}

customElements.define("cr-player-closed-loop", PlayerClosedLoop);
