/**
 * The player's marketing consents and the suppression log on the player 360 (services/crm/consents.py and
 * suppression.py): which product may reach the player on which channel, who set it, and every refusal to
 * reach them with its reason. Support, marketing and brand admins read them; for any other role the policy
 * refuses the field and the section does not appear.
 */
import { html, nothing } from "lit";
import { PlayerSection } from "./player.js";
import { badge, when, words } from "./ui.js";

const CHANNELS = ["email", "sms", "push", "inbox"];

class PlayerConsents extends PlayerSection {
  heading = "Marketing consents";
  field = "consents";
  emptyText = "No consent recorded.";
  query = `query PlayerConsents($id: ID!) { player(id: $id) { consents { product channel granted source changedAt } } }`;

  variables() {
    return { id: this.playerId };
  }

  renderData(data) {
    const consents = data.player.consents;
    const products = [...new Set(consents.map((c) => c.product))];
    const find = (product, channel) => consents.find((c) => c.product === product && c.channel === channel);
    const cell = (consent) => consent
      ? html`<td data-consent="${consent.product}:${consent.channel}" title=${`${words(consent.source)}${
          consent.changedAt ? `, ${when(consent.changedAt)}` : ""}`}>${consent.granted
          ? badge("granted") : consent.source === "unsubscribe" ? badge("unsubscribed") : "—"}</td>`
      : html`<td>—</td>`;
    return html`<table aria-label="Marketing consents">
      <thead><tr><th>Product</th>${CHANNELS.map((c) => html`<th>${words(c)}</th>`)}</tr></thead>
      <tbody>${products.map((product) => html`<tr><th scope="row">${words(product)}</th>
        ${CHANNELS.map((channel) => cell(find(product, channel)))}</tr>`)}</tbody></table>
      ${consents.some((c) => c.source === "registration")
        ? html`<p class="state">Where the player never chose, the sign-up consent applies (e-mail and inbox).</p>`
        : nothing}`;
  }
}

class PlayerSuppressions extends PlayerSection {
  heading = "Suppression log";
  field = "crmSuppressions";
  emptyText = "No message or offer to this player was refused.";
  query = `query PlayerSuppressions($id: ID!, $first: Int) { player(id: $id) { crmSuppressions(first: $first) {
    edges { node { id at purpose channel product reason sourceKind messageId } } pageInfo { hasNextPage } } } }`;

  renderData(data) {
    return html`<table aria-label="Suppression log">
      <thead><tr><th>When</th><th>Reason</th><th>What</th><th>Channel</th><th>Product</th><th>Asked by</th></tr></thead>
      <tbody>${this.nodes(data).map((s) => html`<tr data-suppression=${s.id}>
        <td>${when(s.at)}</td><td>${badge(s.reason)}</td><td>${words(s.purpose)}</td>
        <td>${s.channel ? words(s.channel) : "—"}</td><td>${words(s.product)}</td><td>${words(s.sourceKind)}</td>
      </tr>`)}</tbody></table>${this.more(data)}`;
  }
}

customElements.define("cr-player-consents", PlayerConsents);
customElements.define("cr-player-suppressions", PlayerSuppressions);
