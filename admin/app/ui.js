/**
 * What every screen shares: the client and the viewer's permissions, formatting, styles, and
 * `QueryElement`, a component that loads its own query and shows loading, empty, error and
 * "not for your role" states the same way everywhere.
 */
import { LitElement, css, html, nothing } from "lit";
import { CroupierClient, describeError } from "../graphql-client.js";

export const client = new CroupierClient();

/** The mutations and queries the back office may offer; the server says which the viewer holds. */
export const OFFERED = [
  "Query.players", "Query.auditLog", "Query.payments", "Query.adjustments", "Query.games",
  "Subscription.operationsFeed", "Mutation.approveWithdrawal", "Mutation.rejectWithdrawal",
  "Mutation.grantClosedLoopException", "Mutation.revokeClosedLoopException",
  "Mutation.requestAdjustment", "Mutation.decideAdjustment", "Mutation.setGameAvailability",
  "Mutation.setPlayerStatus", "Mutation.addPlayerNote", "Mutation.grantBonus", "Mutation.cancelBonus",
  "Mutation.sendFreeRounds", "Mutation.cancelFreeRounds",
  "Query.gameProviders", "Mutation.addGameProvider", "Mutation.updateGameProvider", "Mutation.setGameProviderKey",
  "Mutation.setGameProviderSecretRef",
  "Mutation.setGameProviderEnabled", "Mutation.createGame", "Mutation.updateGame", "Mutation.setGameEnabled",
  "Mutation.importGames", "Mutation.imposeExclusion", "Query.screeningAlerts", "Mutation.decideScreeningAlert",
  "Mutation.syncGameCatalogue",
  "Query.kycDocuments", "Mutation.reviewKycDocument", "Mutation.requestKycDocument",
  "Query.kycReviewQueue", "Mutation.kycApproveLevel", "Mutation.kycRestrict",
  // Reports: the screen, its finance-only parts, and the figures of ReportMoney a role may read
  // (marketing reads the audience figures, not the books' money).
  "Query.reportFigures", "Query.reportRegistrations", "Query.reportRetention", "Query.reportLifetimeValue",
  "Query.reportGames", "Query.reportExport", "Query.regulatoryReturns", "Mutation.fileRegulatoryReturn",
  "ReportMoney.turnover", "ReportMoney.ggr", "ReportMoney.ngr", "ReportMoney.hold", "ReportMoney.deposits",
  "ReportMoney.withdrawals", "ReportMoney.ftdCount", "ReportMoney.activePlayers", "ReportMoney.arppu",
  // AML cases: the screen and the steps a role may take.
  "Query.amlCases", "Mutation.assignAmlCase", "Mutation.changeAmlCaseState", "Mutation.addAmlCaseNote",
  "Mutation.addAmlCaseEvidence", "Mutation.setAmlRestriction", "Mutation.closeAmlCase", "Mutation.exportSar",
  // Transaction monitoring: the alerts screen and its decision.
  "Query.amlAlerts", "Mutation.decideAmlAlert",
  // Live queue counts on the compliance screens (admin/app/queue-counts.js): each count its desks'.
  "Subscription.complianceQueues", "ComplianceQueues.kycLevelReviews", "ComplianceQueues.kycDocuments",
  "ComplianceQueues.screeningMatches", "ComplianceQueues.amlAlerts", "ComplianceQueues.amlCasesOpen",
  "ComplianceQueues.amlCasesInvestigating", "ComplianceQueues.amlCasesEscalated", "ComplianceQueues.amlCasesOverdue",
  // Privacy: the data-protection officer's export and erasure on the player 360.
  "Query.privacyRequests", "Mutation.exportPlayerData", "Mutation.erasePlayer", "Mutation.rejectDataErasure",
  // Crypto payments (admin/app/crypto.js): the transfers behind crypto deposits and withdrawals.
  "Query.cryptoTransfers", "Mutation.releaseHeldCryptoDeposit", "Mutation.refundHeldCryptoDeposit",
  // Chargeback disputes: the screen and staff's two steps.
  "Query.disputes", "Mutation.submitDisputeEvidence", "Mutation.closeDisputeLost",
  // Jackpots: the screen and the staff's commands.
  "Query.jackpots", "Mutation.createJackpot", "Mutation.configureJackpot", "Mutation.setJackpotStatus",
  // Risk: the linked accounts on the player 360 and the list editor.
  "Player.risk", "Query.riskListEntries", "Mutation.addRiskListEntry", "Mutation.removeRiskListEntry",
  // The risk desk (admin/app/risk-desk.js): the queue, the rule editor, the score and restrictions on the 360.
  "Query.riskQueue", "Mutation.reviewRiskFlag", "Query.riskRules", "Mutation.createRiskRule",
  "Mutation.updateRiskRule", "Mutation.imposeRiskAction", "Mutation.liftRiskAction",
  // Deposits a risk rule held (admin/app/held-deposits.js): released or declined by the risk desk.
  "Mutation.releaseHeldDeposit", "Mutation.declineHeldDeposit",
  // Tournaments (admin/app/tournaments.js): the list, scheduling, cancel and settle, the live board, verify.
  "Query.tournaments", "Mutation.createTournament", "Mutation.cancelTournament", "Mutation.settleTournament",
  "Subscription.leaderboardChanged", "Query.tournamentVerification",
  // Affiliate fraud (admin/app/affiliate-fraud.js): flagged sub-ids and their review, the risk desk's.
  "Query.affiliateSubIdFlags", "Mutation.reviewAffiliateSubIdFlag",
  // Affiliate commission runs (admin/app/affiliate-runs.js): the list and finance's steps.
  "Query.affiliateRuns", "Mutation.createAffiliateRun", "Mutation.approveAffiliateRun",
  "Mutation.discardAffiliateRun", "Mutation.bookAffiliateRun", "Mutation.payAffiliateRun",
  // Affiliate partners (admin/app/affiliates.js) and a player's attribution (admin/app/player.js).
  "Query.affiliates", "Mutation.createAffiliate", "Mutation.setAffiliateStatus", "Mutation.addAffiliateLink",
  "Mutation.archiveAffiliateLink", "Mutation.createAffiliatePortalUser", "Mutation.disableAffiliatePortalUser",
  "Player.affiliate",
  // Affiliate plans and deals (admin/app/affiliate-plans.js).
  "Query.affiliatePlans", "Query.affiliateDeals", "Mutation.createAffiliatePlan", "Mutation.createAffiliateDeal",
  "Mutation.cancelAffiliateDeal",
  // Affiliate postbacks (admin/app/affiliate-postbacks.js): configs, the secret, the delivery log, retry now.
  "Query.affiliatePostbackConfigs", "Query.affiliatePostbackDeliveries", "Mutation.createAffiliatePostbackConfig",
  "Mutation.updateAffiliatePostbackConfig", "Mutation.rotateAffiliatePostbackSecret", "Mutation.retryAffiliatePostback",
  // CRM segments (admin/app/segments.js): the builder with its live size, uploads of static lists.
  "Query.segments", "Query.segmentPreview", "Mutation.createSegment", "Mutation.updateSegment",
  "Mutation.archiveSegment", "Mutation.uploadSegmentMembers",
  // CRM A/B tests (admin/app/experiments.js) and lobby layouts (admin/app/lobbies.js).
  "Query.crmExperiments", "Mutation.createExperiment", "Mutation.startExperiment", "Mutation.stopExperiment",
  "Query.lobbyLayouts", "Mutation.createLobbyLayout", "Mutation.updateLobbyLayout", "Mutation.refreshPopularGames",
  // CRM messages (admin/app/crm-messages.js): the log, templates, the send to a segment.
  "Query.crmMessages", "Query.crmTemplates", "Mutation.saveCrmTemplate", "Mutation.sendMessage",
  // Content (admin/app/content.js): items, versions, publish, preview.
  "Query.contentItems", "Query.contentPreview", "Mutation.createContentItem", "Mutation.updateContentItem",
  "Mutation.publishContentItem", "Mutation.unpublishContentItem",
  // CRM journeys (admin/app/journeys.js): the list and editor, versions and their life, the run log.
  "Query.journeys", "Mutation.createJourney", "Mutation.updateJourney", "Mutation.newJourneyVersion",
  "Mutation.setJourneyStatus", "Query.bonusCampaigns",
  // Payment routing (admin/app/routing.js): the versions, their edits, the preview.
  "Query.routingVersion", "Mutation.saveRoutingRule",
];

/** The viewer: who is signed in and what the server lets them do (`can`). */
export const viewer = {
  staff: null,
  granted: new Set(),
  can(coordinate) {
    return this.granted.has(coordinate);
  },
  async load() {
    const result = await client.query(`{ currentStaff { id email displayName roles { role brand { code name } } } }`);
    this.staff = result.data?.currentStaff ?? null;
    this.granted = await client.permissions(OFFERED);
    return this.staff;
  },
  clear() {
    this.staff = null;
    this.granted = new Set();
  },
};

// ---- formatting ---------------------------------------------------------------------------------

const dateTime = new Intl.DateTimeFormat("en-GB", { dateStyle: "medium", timeStyle: "medium" });

export function when(value) {
  return value ? dateTime.format(new Date(value)) : "—";
}

export function money(value) {
  if (!value) return "—";
  return `${value.amount} ${value.currency}`;
}

export function words(value) {
  return String(value ?? "").toLowerCase().replaceAll("_", " ");
}

export function playerName(player) {
  if (!player) return "—";
  const name = [player.firstName, player.lastName].filter(Boolean).join(" ");
  return name || player.email || shortId(player.id);
}

export function shortId(id) {
  return id ? `${String(id).slice(0, 10)}…` : "—";
}

export function newKey() {
  return globalThis.crypto?.randomUUID?.() ?? `${Date.now()}-${Math.random().toString(16).slice(2)}`;
}

export function go(path) {
  location.hash = `#/${path}`;
}

/** Save a file the API sent as base64 (`ReportFile`: filename, mediaType, contentBase64) as a download. */
export function download(file) {
  const bytes = Uint8Array.from(atob(file.contentBase64), (c) => c.charCodeAt(0));
  const url = URL.createObjectURL(new Blob([bytes], { type: file.mediaType }));
  const link = Object.assign(document.createElement("a"), { href: url, download: file.filename });
  document.body.append(link);
  link.click();
  link.remove();
  setTimeout(() => URL.revokeObjectURL(url), 60_000); // once the browser has surely taken it
}

// ---- styles -------------------------------------------------------------------------------------

export const shared = css`
  :host { display: block; color: var(--ink); font: inherit; }
  h2 { font-size: 1.15rem; margin: 0 0 .75rem; }
  h3 { font-size: 1rem; margin: 0 0 .5rem; }
  table { width: 100%; border-collapse: collapse; font-size: .9rem; }
  th, td { text-align: left; padding: .4rem .5rem; border-bottom: 1px solid var(--line); vertical-align: top; }
  th { color: var(--muted); font-weight: 600; font-size: .8rem; text-transform: uppercase; letter-spacing: .03em; }
  td.num, th.num { text-align: right; font-variant-numeric: tabular-nums; }
  tr.clickable { cursor: pointer; }
  tr.clickable:hover, tr[aria-selected="true"] { background: var(--hover); }
  button, input, select, textarea { font: inherit; color: inherit; }
  input, select, textarea { border: 1px solid var(--line-strong); border-radius: 6px; padding: .45rem .6rem;
    background: var(--field); }
  button { border: 1px solid var(--line-strong); background: var(--field); border-radius: 6px; padding: .4rem .8rem;
    cursor: pointer; }
  button.primary { background: var(--accent); border-color: var(--accent); color: white; }
  button.danger { background: var(--danger); border-color: var(--danger); color: white; }
  button:disabled { opacity: .55; cursor: not-allowed; }
  :focus-visible { outline: 3px solid var(--focus); outline-offset: 2px; }
  a { color: var(--accent); }
  label { display: grid; gap: .25rem; font-size: .85rem; color: var(--muted); }
  .card { background: var(--card); border: 1px solid var(--line); border-radius: 10px; padding: 1rem; }
  .row { display: flex; gap: .75rem; align-items: end; flex-wrap: wrap; }
  .muted { color: var(--muted); }
  .state { color: var(--muted); padding: .5rem 0; }
  .error { color: var(--danger); padding: .5rem 0; }
  .ok { color: var(--good); padding: .5rem 0; }
  .badge { display: inline-block; padding: .1rem .5rem; border-radius: 999px; font-size: .78rem;
    background: var(--hover); border: 1px solid var(--line); }
  .badge.good { background: #e7f6ec; border-color: #b7e1c4; color: #1d6b36; }
  .badge.warn { background: #fff4e0; border-color: #f3d39b; color: #8a5a00; }
  .badge.bad { background: #fde8e8; border-color: #f3b7b7; color: #9b1c1c; }
  pre { background: var(--hover); padding: .5rem; border-radius: 6px; overflow: auto; font-size: .8rem; margin: .25rem 0;
    max-height: 16rem; white-space: pre-wrap; word-break: break-all; }
  dl { display: grid; grid-template-columns: max-content 1fr; gap: .3rem 1rem; margin: 0; }
  dt { color: var(--muted); }
  dd { margin: 0; }
  .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); }
`;

/** The page frame of a client (the back office, the partner portal): the header bar, its nav and the main area. */
export const shell = css`
  :host { display: grid; grid-template-rows: auto 1fr; min-height: 100vh; }
  header { display: flex; align-items: center; gap: 1.25rem; padding: .6rem 1.25rem; background: var(--bar);
    color: white; flex-wrap: wrap; }
  header .brand { font-weight: 700; letter-spacing: .02em; }
  nav { display: flex; gap: .25rem; flex-wrap: wrap; }
  nav a { color: #dfe6ff; text-decoration: none; padding: .35rem .7rem; border-radius: 6px; }
  nav a[aria-current="page"] { background: rgba(255, 255, 255, .16); color: white; }
  nav a:focus-visible, header button:focus-visible, header select:focus-visible { outline-color: #ffd24a; }
  .who { margin-left: auto; display: flex; gap: .75rem; align-items: center; font-size: .9rem; }
  .who select { background: #24305e; color: white; border-color: #4a5a99; }
  .who button { background: transparent; color: white; border-color: #6b79b3; }
  main { padding: 1.25rem; max-width: 1400px; width: 100%; box-sizing: border-box; margin: 0 auto; }
`;

export function badge(status) {
  const value = words(status);
  const tone = ["active", "succeeded", "paid", "applied", "approved", "closed round", "committed", "on"].includes(value)
    ? "good" : ["blocked", "failed", "rejected", "refused", "declined", "off", "technical failure"].includes(value)
      ? "bad" : "warn";
  return html`<span class="badge ${tone}">${value}</span>`;
}

// ---- a component that loads its own query -------------------------------------------------------

/**
 * Subclasses define `query` (and `variables()`), and `renderData(data)`. The element loads when it
 * is connected (and on `reload()`), then shows: a loading line, the data, an empty state
 * (`isEmpty(data)`), an error in words, or nothing at all when the query's root field (`rootPath`)
 * came back FORBIDDEN: what a role may not read is not shown.
 */
export class QueryElement extends LitElement {
  static properties = { result: { state: true }, loading: { state: true }, failure: { state: true } };
  static styles = shared;

  constructor() {
    super();
    this.result = null;
    this.loading = false;
    this.failure = null;
  }

  /** The client it queries with: the back office's; the partner portal (admin/portal/) gives its own. */
  get client() {
    return client;
  }

  /** The path of the field whose refusal hides the whole element, e.g. ["player", "notes"]. */
  get rootPath() {
    return [];
  }

  variables() {
    return {};
  }

  isEmpty() {
    return false;
  }

  connectedCallback() {
    super.connectedCallback();
    this.reload();
  }

  async reload() {
    this.loading = true;
    const ticket = (this.ticket = (this.ticket ?? 0) + 1); // an older answer arriving late is dropped
    try {
      const result = await this.client.query(this.query, this.variables());
      if (ticket !== this.ticket) return;
      this.result = result;
      const failure = result.refused ?? result.failures[0] ?? null;
      this.failure = failure && !(this.rootPath.length && result.forbidden(...this.rootPath)) ? failure : null;
    } catch (error) {
      if (ticket === this.ticket) this.failure = error;
    } finally {
      if (ticket === this.ticket) this.loading = false;
    }
  }

  get hidden() {
    return Boolean(this.result && this.rootPath.length && this.result.forbidden(...this.rootPath));
  }

  render() {
    if (this.hidden) return nothing;
    return this.frame(this.body());
  }

  /** Wraps the body (sections put a heading and a card around it). */
  frame(body) {
    return body;
  }

  body() {
    if (this.failure) return html`<p class="error" role="alert">${describeError(this.failure)}</p>`;
    if (!this.result) return html`<p class="state" aria-live="polite">Loading…</p>`;
    if (this.isEmpty(this.result.data)) return html`<p class="state">${this.emptyText ?? "Nothing here yet."}</p>`;
    return this.renderData(this.result.data);
  }
}

/**
 * "First page" / "Next page" under a cursor-paged list. The element keeps `pages`, the cursors walked (null:
 * the first page), passes the last one as `after`, and reloads.
 */
export function pager(element, edges, pageInfo) {
  return html`<div class="row" style="margin-top:.5rem">
    ${element.pages.length > 1 ? html`<button @click=${() => { element.pages = [null]; element.reload(); }}>First page</button>` : nothing}
    ${pageInfo.hasNextPage ? html`<button @click=${() => {
      element.pages = [...element.pages, edges[edges.length - 1].cursor];
      element.reload();
    }}>Next page</button>` : nothing}
  </div>`;
}

/** The payload `errors` of a mutation, or its request-level refusal, as one message (or ""). */
export function mutationProblem(result, field) {
  if (result.refused) return describeError(result.refused);
  const failure = result.failures[0];
  if (failure) return describeError(failure);
  const errors = result.data?.[field]?.errors ?? [];
  return errors.map((e) => e.message).join(" ");
}

/** Run a screen's mutation: `element.busy` while it runs, `element.message` cleared, `element.problem` its refusal;
 * the payload (null when refused). */
export async function runMutation(element, mutation, input, field) {
  element.busy = true;
  element.message = "";
  element.problem = "";
  try {
    const result = await client.mutate(mutation, { input });
    element.problem = mutationProblem(result, field);
    return element.problem ? null : result.data[field];
  } finally {
    element.busy = false;
  }
}

/** One step of a CRM screen (A/B tests, lobbies): run a mutation, say its refusal or what was done, reload. */
export async function runStep(element, mutation, field, variables, done) {
  element.busy = true;
  element.message = "";
  try {
    const result = await client.mutate(mutation, variables);
    element.problem = mutationProblem(result, field);
    if (!element.problem) element.message = done;
    await element.reload();
  } finally {
    element.busy = false;
  }
}
