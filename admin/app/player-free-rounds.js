/**
 * Free rounds granted through game providers' APIs, on the player 360 (services/free_rounds): each grant's
 * provider, games, rounds left, bet, what its rounds won (their `reward_uuid` wins), and its status. Support
 * sends a pending grant again or cancels one (at the provider first, then its bonus). The bonus desk reads it;
 * for any other role the policy refuses the field and the section does not appear.
 */
import { html, nothing } from "lit";
import { PlayerSection } from "./player.js";
import { badge, client, money, mutationProblem, viewer, when } from "./ui.js";

class PlayerFreeRounds extends PlayerSection {
  static properties = { ...PlayerSection.properties, problem: { state: true } };
  heading = "Free rounds at providers";
  field = "freeRoundsGrants";
  emptyText = "No free rounds granted through a provider.";
  query = `query PlayerFreeRounds($id: ID!, $first: Int) { freeRoundsGrants(playerId: $id, first: $first) {
    id provider games rounds roundsLeft bet { amount currency } won { amount currency } wins status bonusStatus
    rewardUuid attempts lastError expiresAt createdAt } }`;

  get rootPath() {
    return ["freeRoundsGrants"];
  }

  isEmpty(data) {
    return !data?.freeRoundsGrants?.length;
  }

  async act(document, field, input) {
    const result = await client.mutate(document, { input });
    this.problem = mutationProblem(result, field);
    if (!this.problem) this.dispatchEvent(new CustomEvent("adjusted", { bubbles: true, composed: true }));
  }

  send(grant) {
    return this.act(`mutation($input: SendFreeRoundsInput!) { sendFreeRounds(input: $input) {
      grant { id status } errors { code field message } } }`, "sendFreeRounds", { grantId: grant.id });
  }

  cancel(grant) {
    const reason = window.prompt("Why are these free rounds cancelled? (audited; the provider is told first)");
    if (!reason) return undefined;
    return this.act(`mutation($input: CancelFreeRoundsInput!) { cancelFreeRounds(input: $input) {
      grant { id status } errors { code field message } } }`, "cancelFreeRounds", { grantId: grant.id, reason });
  }

  renderData(data) {
    const maySend = viewer.can("Mutation.sendFreeRounds");
    const mayCancel = viewer.can("Mutation.cancelFreeRounds");
    return html`${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}<table>
      <thead><tr><th>Granted</th><th>Provider</th><th>Games</th><th>Rounds</th><th class="num">Bet</th>
        <th class="num">Won</th><th>Status</th><th>Expires</th><th></th></tr></thead>
      <tbody>${data.freeRoundsGrants.map((g) => html`<tr data-grant=${g.id}>
        <td>${when(g.createdAt)}</td><td>${g.provider}</td><td>${g.games.join(", ")}</td>
        <td>${g.roundsLeft} of ${g.rounds} left</td><td class="num">${money(g.bet)}</td>
        <td class="num">${money(g.won)}<br><span class="muted">${g.wins} wins</span></td>
        <td>${badge(g.status)}${g.rewardUuid ? html`<br><code title=${g.rewardUuid}>${g.rewardUuid.slice(0, 8)}</code>` : nothing}
          ${g.lastError ? html`<br><span class="muted">${g.attempts} tries: ${g.lastError}</span>` : nothing}</td>
        <td>${when(g.expiresAt)}</td>
        <td>${maySend && g.status === "PENDING" ? html`<button @click=${() => this.send(g)}>Send now</button>` : nothing}
          ${mayCancel && (g.status === "PENDING" || g.status === "GRANTED")
            ? html`<button @click=${() => this.cancel(g)}>Cancel</button>` : nothing}</td>
      </tr>`)}</tbody></table>`;
  }
}

customElements.define("cr-player-free-rounds", PlayerFreeRounds);
