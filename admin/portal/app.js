/**
 * The partner portal's shell, served at /portal/: the sign-in, the partner's name and the screens
 * (dashboard, stats, links, commissions, tokens) under a hash router (#/stats, …), and sign-out.
 * A session that is not a partner's (a staff token left in the tab, a disabled portal user) is ended,
 * not shown an empty portal.
 */
import { LitElement, css, html } from "lit";
import { keyed } from "lit/directives/keyed.js";
import { shared, shell } from "/admin/app/ui.js";
import { client, partner, signOut } from "./portal.js";
import "./sign-in.js";
import "./dashboard.js";
import "./stats.js";
import "./links.js";
import "./commissions.js";
import "./tokens.js";

const ENDED = "Your session has ended. Please sign in again.";

/** The screens, each shown when the viewer holds its scope (a portal user holds them all). */
const SCREENS = [
  { path: "dashboard", label: "Dashboard", needs: "STATS_READ" },
  { path: "stats", label: "Stats", needs: "STATS_READ" },
  { path: "links", label: "Links", needs: "LINKS_READ" },
  { path: "commissions", label: "Commissions", needs: "COMMISSIONS_READ" },
  { path: "tokens", label: "API tokens", needs: null },
];

class PortalApp extends LitElement {
  static properties = { ready: { state: true }, route: { state: true }, notice: { state: true } };
  static styles = [shared, shell, css`main { max-width: 1200px; }`];

  constructor() {
    super();
    this.ready = false;
    this.notice = "";
    this.route = this._parse();
    window.addEventListener("hashchange", () => {
      this.route = this._parse();
    });
    client.addEventListener("signedout", () => {
      // Not the partner's own "Sign out": the server refused the token (expired after 15 minutes: a portal
      // sign-in has no refresh token), so say why the page is back at the sign-in.
      if (partner.current && !this.signingOut) this.notice = ENDED;
      this.signingOut = false;
      partner.clear();
      this.requestUpdate();
    });
    this._start();
  }

  async _start() {
    if (client.signedIn) await this._loadPartner().catch(() => this._signOut());
    this.ready = true;
  }

  async _loadPartner() {
    const current = await partner.load();
    if (!current) {
      this.notice = client.signedIn ? "This account has no access to the partner portal." : ENDED;
      await this._signOut();
    }
    return current;
  }

  _signOut() {
    this.signingOut = true;
    return signOut();
  }

  async _signedIn() {
    this.notice = "";
    if (await this._loadPartner()) {
      this.requestUpdate();
      if (!this.route.screen) location.hash = "#/dashboard";
    }
  }

  _parse() {
    const [screen = ""] = location.hash.replace(/^#\/?/, "").split("/");
    return { screen };
  }

  render() {
    if (!this.ready) return html`<main><p class="state">Loading…</p></main>`;
    if (!client.signedIn || !partner.current) {
      return html`<main><cp-sign-in .problem=${this.notice} @signed-in=${() => this._signedIn()}></cp-sign-in></main>`;
    }
    const screens = SCREENS.filter((screen) => !screen.needs || partner.can(screen.needs));
    const current = screens.find((s) => s.path === this.route.screen) ?? screens[0];
    return html`
      <header>
        <span class="brand">Partner portal</span>
        <nav aria-label="Screens">
          ${screens.map((screen) => html`<a href="#/${screen.path}"
              aria-current=${current.path === screen.path ? "page" : "false"}>${screen.label}</a>`)}
        </nav>
        <div class="who">
          <span>${partner.current.company}</span>
          <button @click=${() => this._signOut()}>Sign out</button>
        </div>
      </header>
      <main id="main" tabindex="-1">${keyed(current.path, this._screen(current.path))}</main>`;
  }

  _screen(path) {
    switch (path) {
      case "stats": return html`<cp-stats></cp-stats>`;
      case "links": return html`<cp-links></cp-links>`;
      case "commissions": return html`<cp-commissions></cp-commissions>`;
      case "tokens": return html`<cp-tokens></cp-tokens>`;
      default: return html`<cp-dashboard></cp-dashboard>`;
    }
  }
}

customElements.define("cp-app", PortalApp);
