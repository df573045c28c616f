/**
 * The back office's shell: sign-in with TOTP, the navigation the viewer's permissions allow, the
 * brand picker for staff who work in several brands, and the hash router (#/players/ID, …).
 */
import { LitElement, css, html } from "lit";
import { keyed } from "lit/directives/keyed.js";
import { OFFERED, client, shared, shell, viewer } from "./ui.js";
import "./login.js";
import "./search.js";
import "./player.js";
import "./withdrawals.js";
import "./disputes.js";
import "./crypto.js";
import "./kyc-documents.js";
import "./adjustments.js";
import "./screening.js";
import "./games.js";
import "./providers.js";
import "./audit.js";
import "./dashboard.js";
import "./reports.js";
import "./aml-alerts.js";
import "./aml-cases.js";
import "./kyc.js";
import "./queue-counts.js";
import "./player-aml.js";
import "./player-closed-loop.js";
import "./player-free-rounds.js";
import "./privacy.js";
import "./risk.js";
import "./risk-desk.js";
import "./held-deposits.js";
import "./tournaments.js";
import "./jackpots.js";
import "./affiliate-fraud.js";
import "./affiliate-runs.js";
import "./affiliates.js";
import "./affiliate-plans.js";
import "./affiliate-postbacks.js";
import "./segments.js";
import "./experiments.js";
import "./lobbies.js";
import "./crm-messages.js";
import "./content.js";
import "./journeys.js";
import "./player-crm.js";
import "./routing.js";

const SCREENS = [
  { path: "players", label: "Players", needs: "Query.players" },
  { path: "withdrawals", label: "Withdrawals", needs: "Query.payments" },
  { path: "crypto", label: "Crypto", needs: "Query.cryptoTransfers" },
  { path: "disputes", label: "Disputes", needs: "Query.disputes" },
  { path: "kyc", label: "KYC queue", needs: "Query.kycReviewQueue" },
  { path: "kyc-documents", label: "KYC documents", needs: "Query.kycDocuments" },
  { path: "adjustments", label: "Adjustments", needs: "Query.adjustments" },
  { path: "screening", label: "Screening", needs: "Query.screeningAlerts" },
  { path: "games", label: "Games", needs: "Mutation.setGameAvailability" },
  { path: "providers", label: "Providers", needs: "Query.gameProviders" },
  { path: "audit", label: "Audit log", needs: "Query.auditLog" },
  { path: "dashboard", label: "Dashboard", needs: "Subscription.operationsFeed" },
  { path: "reports", label: "Reports", needs: "Query.reportFigures" },
  { path: "aml-cases", label: "AML cases", needs: "Query.amlCases" },
  { path: "aml-alerts", label: "AML alerts", needs: "Query.amlAlerts" },
  { path: "privacy", label: "Privacy requests", needs: "Query.privacyRequests" },
  { path: "risk-queue", label: "Risk queue", needs: "Query.riskQueue" },
  { path: "risk-rules", label: "Risk rules", needs: "Query.riskRules" },
  { path: "risk-lists", label: "Risk lists", needs: "Query.riskListEntries" },
  { path: "tournaments", label: "Tournaments", needs: "Query.tournaments" },
  { path: "jackpots", label: "Jackpots", needs: "Query.jackpots" },
  { path: "affiliate-fraud", label: "Affiliate fraud", needs: "Query.affiliateSubIdFlags" },
  { path: "affiliate-runs", label: "Commission runs", needs: "Query.affiliateRuns" },
  { path: "affiliates", label: "Partners", needs: "Query.affiliates" },
  { path: "affiliate-plans", label: "Affiliate plans", needs: "Query.affiliatePlans" },
  { path: "postbacks", label: "Postbacks", needs: "Query.affiliatePostbackDeliveries" },
  { path: "segments", label: "Segments", needs: "Query.segments" },
  { path: "experiments", label: "A/B tests", needs: "Query.crmExperiments" },
  { path: "lobbies", label: "Lobbies", needs: "Query.lobbyLayouts" },
  { path: "messages", label: "Messages", needs: "Query.crmMessages" },
  { path: "content", label: "Content", needs: "Query.contentItems" },
  { path: "journeys", label: "Journeys", needs: "Query.journeys" },
  { path: "routing", label: "Payment routing", needs: "Query.routingVersion" },
];

class CroupierApp extends LitElement {
  static properties = { ready: { state: true }, route: { state: true }, brands: { state: true } };
  static styles = [shared, shell, css`
    .skip { position: absolute; left: -999px; }
    .skip:focus { left: 1rem; top: .5rem; background: white; color: var(--ink); padding: .4rem; z-index: 10; }
  `];

  constructor() {
    super();
    this.ready = false;
    this.route = this._parse();
    this.brands = [];
    window.addEventListener("hashchange", () => {
      this.route = this._parse();
    });
    client.addEventListener("signedout", () => {
      sessionStorage.removeItem("croupier.brand"); // the next one to sign in may work elsewhere
      sessionStorage.removeItem("croupier.brands");
      client.brand = null;
      viewer.clear();
      this.requestUpdate();
    });
    this._start();
  }

  async _start() {
    client.setBrand(sessionStorage.getItem("croupier.brand"));
    if (client.signedIn) {
      try {
        await this._loadViewer();
      } catch {
        await client.logout();
      }
    }
    this.ready = true;
  }

  async _loadViewer() {
    const staff = await viewer.load();
    if (!staff) throw new Error("not staff");
    const brands = new Map();
    const granted = JSON.parse(sessionStorage.getItem("croupier.brands") ?? "[]");
    for (const brand of [...granted, ...(staff.roles ?? []).map((grant) => grant.brand)]) {
      if (brand) brands.set(brand.code, brand.name);
    }
    const global = (staff.roles ?? []).some((grant) => grant.brand === null);
    if (global) {
      const all = await client.query("{ brands { code name } }");
      for (const brand of all.data?.brands ?? []) brands.set(brand.code, brand.name);
    }
    this.brands = [...brands.entries()].map(([code, name]) => ({ code, name }));
    this.global = global;
  }

  async _pickBrand(code) {
    client.setBrand(code);
    if (code) sessionStorage.setItem("croupier.brand", code);
    else sessionStorage.removeItem("croupier.brand");
    viewer.granted = await client.permissions(OFFERED);
    this.routeKey = (this.routeKey ?? 0) + 1; // screens reload for the new brand
    this.requestUpdate();
  }

  _parse() {
    const [screen = "", ...rest] = location.hash.replace(/^#\/?/, "").split("/");
    return { screen, id: rest.join("/") ? decodeURIComponent(rest.join("/")) : null };
  }

  async _signedIn(staff) {
    // Staff whose roles sit in several brands must name one on every request (X-Croupier-Brand):
    // start in the first, from the grants the login answered with.
    const grants = staff?.roles ?? [];
    const codes = [...new Set(grants.filter((g) => g.brand).map((g) => g.brand.code))];
    // The login's answer lists every grant; later requests, scoped to one brand, show only its own.
    sessionStorage.setItem("croupier.brands", JSON.stringify(grants.filter((g) => g.brand).map((g) => g.brand)));
    if (!grants.some((g) => g.brand === null) && codes.length > 1) {
      client.setBrand(codes.includes(client.brand) ? client.brand : codes[0]);
      sessionStorage.setItem("croupier.brand", client.brand);
    }
    await this._loadViewer();
    this.requestUpdate();
    if (!this.route.screen) location.hash = "#/players";
  }

  render() {
    if (!this.ready) return html`<main><p class="state">Loading…</p></main>`;
    if (!client.signedIn || !viewer.staff) {
      return html`<main><cr-login @signed-in=${(e) => this._signedIn(e.detail)}></cr-login></main>`;
    }
    const screens = SCREENS.filter((screen) => viewer.can(screen.needs));
    const current = screens.find((s) => s.path === this.route.screen) ?? screens[0];
    return html`
      <a class="skip" href="#main" @click=${(e) => { e.preventDefault(); this.renderRoot.querySelector("main")?.focus(); }}>Skip to content</a>
      <header>
        <span class="brand">Croupier back office</span>
        <nav aria-label="Screens">
          ${screens.map((screen) => html`<a href="#/${screen.path}"
              aria-current=${current?.path === screen.path ? "page" : "false"}>${screen.label}</a>`)}
        </nav>
        <div class="who">
          ${this.brands.length > 1 || this.global ? html`
            <label class="visually-hidden" for="brand" style="color:#dfe6ff">Brand</label>
            <select id="brand" @change=${(e) => this._pickBrand(e.target.value)}>
              ${this.global ? html`<option value="" ?selected=${!client.brand}>All brands</option>` : ""}
              ${this.brands.map((b) => html`<option value=${b.code} ?selected=${client.brand === b.code}>${b.name}</option>`)}
            </select>` : ""}
          <span>${viewer.staff.displayName}</span>
          <button @click=${() => client.logout()}>Sign out</button>
        </div>
      </header>
      <main id="main" tabindex="-1">${current ? keyed(`${this.routeKey ?? 0}:${current.path}:${this.route.id}`,
        this._screen(current.path)) : html`
        <p class="state">Your role has no back-office screens. Ask an administrator for access.</p>`}</main>`;
  }

  _screen(path) {
    const id = this.route.screen === path ? this.route.id : null;
    switch (path) {
      case "players":
        return id ? html`<cr-player-360 .playerId=${id}></cr-player-360>` : html`<cr-player-search></cr-player-search>`;
      case "withdrawals": return html`<cr-withdrawals></cr-withdrawals>`;
      case "disputes": return html`<cr-disputes></cr-disputes>`;
      case "crypto": return html`<cr-crypto-transfers></cr-crypto-transfers>`;
      case "kyc": return html`<cr-kyc-queue></cr-kyc-queue>`;
      case "kyc-documents": return html`<cr-kyc-documents></cr-kyc-documents>`;
      case "adjustments": return html`<cr-adjustments></cr-adjustments>`;
      case "screening": return html`<cr-screening></cr-screening>`;
      case "games": return html`<cr-games></cr-games>`;
      case "providers": return html`<cr-providers></cr-providers>`;
      case "audit": return html`<cr-audit-log></cr-audit-log>`;
      case "dashboard": return html`<cr-dashboard></cr-dashboard>`;
      case "reports": return html`<cr-reports></cr-reports>`;
      case "aml-cases":
        return id ? html`<cr-aml-case .caseId=${id}></cr-aml-case>` : html`<cr-aml-cases></cr-aml-cases>`;
      case "aml-alerts": return html`<cr-aml-alerts></cr-aml-alerts>`;
      case "privacy": return html`<cr-privacy-requests></cr-privacy-requests>`;
      case "risk-queue": return html`<cr-held-deposits></cr-held-deposits><cr-risk-queue></cr-risk-queue>`;
      case "risk-rules": return html`<cr-risk-rules></cr-risk-rules>`;
      case "jackpots":
        return id ? html`<cr-jackpot .jackpotId=${id}></cr-jackpot>` : html`<cr-jackpots></cr-jackpots>`;
      case "risk-lists": return html`<cr-risk-lists></cr-risk-lists>`;
      case "affiliate-fraud":
        return id
          ? html`<cr-affiliate-fraud-flag .flagId=${id}></cr-affiliate-fraud-flag>`
          : html`<cr-affiliate-fraud-flags></cr-affiliate-fraud-flags>`;
      case "postbacks": return html`<cr-affiliate-postbacks></cr-affiliate-postbacks>`;
      case "journeys": return html`<cr-journeys></cr-journeys>`;
      case "tournaments":
        return id ? html`<cr-tournament .tournamentId=${id}></cr-tournament>` : html`<cr-tournaments></cr-tournaments>`;
      case "affiliate-runs": return html`<cr-affiliate-runs></cr-affiliate-runs>`;
      case "affiliates":
        return id ? html`<cr-affiliate .affiliateId=${id}></cr-affiliate>` : html`<cr-affiliates></cr-affiliates>`;
      case "affiliate-plans":
        return html`<cr-affiliate-plans></cr-affiliate-plans><cr-affiliate-deals></cr-affiliate-deals>`;
      case "segments": return html`<cr-segments></cr-segments>`;
      case "routing": return html`<cr-routing></cr-routing>`;
      case "experiments": return html`<cr-experiments></cr-experiments>`;
      case "lobbies": return html`<cr-lobbies></cr-lobbies>`;
      case "messages": return html`<cr-crm-messages></cr-crm-messages>`;
      case "content": return html`<cr-content></cr-content>`;
      default: return "";
    }
  }
}

customElements.define("cr-app", CroupierApp);
