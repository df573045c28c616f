/**
 * API tokens: the partner's scoped tokens for its own systems (name, prefix, scopes, expiry, last use),
 * the form that makes one (`createAffiliateToken`) and revocation (`revokeAffiliateToken`, confirmed first).
 * The secret comes back once, in the creation's answer: it is shown until the partner dismisses it and
 * kept nowhere (the server stores only its hash), so leaving the screen loses it for good.
 */
import { html, nothing } from "lit";
import { badge, when } from "/admin/app/ui.js";
import { PortalQuery, isoDay } from "./portal.js";

const TOKENS = `query PortalTokens { affiliatePortal { tokens {
  id name prefix scopes expiresAt lastUsedAt createdAt revokedAt active } } }`;
const CREATE = `mutation CreateAffiliateToken($input: CreateAffiliateTokenInput!) { createAffiliateToken(input: $input) {
  token { id name prefix } secret errors { code field message } } }`;
const REVOKE = `mutation RevokeAffiliateToken($input: RevokeAffiliateTokenInput!) { revokeAffiliateToken(input: $input) {
  token { id revokedAt active } errors { code field message } } }`;

/** The scopes a token may hold: the API's enum value, how the docs write it, and what it allows. */
const SCOPES = [
  ["STATS_READ", "stats:read", "Read stats"],
  ["LINKS_READ", "links:read", "Read links"],
  ["LINKS_WRITE", "links:write", "Make links"],
  ["COMMISSIONS_READ", "commissions:read", "Read commissions"],
  ["POSTBACKS_READ", "postbacks:read", "Read postback settings"],
];
const SCOPE_NAMES = Object.fromEntries(SCOPES.map(([value, name]) => [value, name]));
const DAY_MS = 86_400_000;

/** A token's state in words: revoked, expired or active. */
function state(token) {
  if (token.revokedAt) return "revoked";
  return token.active ? "active" : "expired";
}

class Tokens extends PortalQuery {
  static properties = {
    ...PortalQuery.properties, secret: { state: true }, confirming: { state: true },
  };
  query = TOKENS;
  emptyText = "No API token yet.";

  isEmpty(data) {
    return !data?.affiliatePortal?.tokens?.length;
  }

  async create(event) {
    event.preventDefault();
    const element = event.target; // kept: once the event is dispatched, its target in a shadow root is null
    const form = new FormData(element);
    const scopes = form.getAll("scope").map(String);
    const expires = String(form.get("expires"));
    this.secret = null;
    if (!scopes.length) {
      this.message = "";
      this.problem = "Pick at least one scope.";
      return;
    }
    const made = await this.act(CREATE, { input: {
      name: String(form.get("name")).trim(), scopes,
      // The last day chosen is included: the token works until the end of that UTC day.
      expiresAt: `${expires}T23:59:59Z`,
    } }, "createAffiliateToken");
    if (made?.secret) {
      this.secret = { name: made.token.name, value: made.secret };
      element.reset();
      await this.reload();
    }
  }

  async revoke(token) {
    if (await this.act(REVOKE, { input: { id: token.id } }, "revokeAffiliateToken")) {
      this.message = `Token ${token.name} revoked: it no longer works.`;
      this.confirming = null;
      await this.reload();
    }
  }

  frame(body) {
    // At most a year ahead (the server refuses more); 90 days unless the partner picks another day.
    const now = Date.now();
    const [first, suggested, last] = [1, 90, 365].map((days) => isoDay(new Date(now + days * DAY_MS)));
    return html`<h2>API tokens</h2>
      <p class="muted">A token lets your own systems read your figures through the GraphQL API
        (<code>Authorization: Bearer …</code>), with only the scopes you give it.</p>
      <form class="card" aria-label="New token" @submit=${this.create} style="margin-bottom:1rem; display:grid; gap:.75rem">
        <div class="row">
          <label>Name <input name="name" required maxlength="80" placeholder="reporting"></label>
          <label>Last day <input name="expires" type="date" required min=${first} max=${last} value=${suggested}></label>
        </div>
        <fieldset style="border:0; padding:0; margin:0"><legend class="muted">Scopes</legend>
          <div class="row">${SCOPES.map(([value, name, label]) => html`
            <label style="display:flex; gap:.35rem; align-items:center; color:var(--ink)">
              <input type="checkbox" name="scope" value=${value}> ${label} <code class="muted">${name}</code></label>`)}
          </div></fieldset>
        <div><button class="primary" type="submit" ?disabled=${this.busy}>Create token</button></div>
      </form>
      ${this.secret ? this.secretBox() : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      <div class="card">${body}</div>`;
  }

  secretBox() {
    return html`<section class="card" aria-label="New token secret" style="margin-bottom:1rem; border-color:var(--focus)">
      <h3>The secret of ${this.secret.name}</h3>
      <p>Copy it now: it is shown this once and cannot be shown again.</p>
      <div class="row">
        <input id="secret" readonly .value=${this.secret.value} aria-label="Token secret" size="60">
        <button type="button" @click=${() => this.copy(this.secret.value, "#secret", "Secret copied.")}>Copy secret</button>
        <button type="button" @click=${() => { this.secret = null; this.message = ""; }}>I have stored it</button>
      </div></section>`;
  }

  renderData(data) {
    return html`<table aria-label="Tokens">
      <thead><tr><th>Name</th><th>Prefix</th><th>Scopes</th><th>Expires</th><th>Last used</th><th>State</th><th></th></tr></thead>
      <tbody>${data.affiliatePortal.tokens.map((token) => html`<tr data-token=${token.name}>
        <td>${token.name}</td><td><code>${token.prefix}…</code></td><td>${token.scopes.map((scope) => SCOPE_NAMES[scope] ?? scope).join(", ")}</td>
        <td>${when(token.expiresAt)}</td><td>${when(token.lastUsedAt)}</td>
        <td>${badge(state(token))}</td>
        <td>${state(token) === "revoked" ? nothing : this.confirming === token.id ? html`
          <button class="danger" ?disabled=${this.busy} @click=${() => this.revoke(token)}>Revoke ${token.name} now</button>
          <button @click=${() => { this.confirming = null; }}>Keep</button>` : html`
          <button @click=${() => { this.confirming = token.id; }}>Revoke</button>`}</td>
      </tr>`)}</tbody>
    </table>`;
  }
}

customElements.define("cp-tokens", Tokens);
