/**
 * What the partner portal's screens share: its own GraphQL client (the back office's client module, with
 * the tokens kept apart from a staff session in the same tab), `PortalQuery` (the back office's
 * `QueryElement` over that client), the signed-in partner, the period every figure is read for, and the
 * formatting of the API's amounts.
 *
 * Invariant: the portal knows nothing of other partners. Every figure comes from `affiliatePortal`, which
 * the server answers for the viewer's own partner only (null for anyone else).
 */
import { LitElement, css, html } from "lit";
import { CroupierClient, GraphQLRequestError, describeError } from "/admin/graphql-client.js";
import { QueryElement, mutationProblem, shared } from "/admin/app/ui.js";

const PREFIX = "croupier.portal.";
const PERIOD_KEY = `${PREFIX}period`;

/** sessionStorage under the portal's own names: a staff session in the same tab stays the back office's. */
const storage = {
  getItem: (key) => sessionStorage.getItem(PREFIX + key),
  setItem: (key, value) => sessionStorage.setItem(PREFIX + key, value),
  removeItem: (key) => sessionStorage.removeItem(PREFIX + key),
};

export const client = new CroupierClient({ storage });

const SIGN_IN = `mutation AffiliateSignIn($input: AffiliateSignInInput!) {
  affiliateSignIn(input: $input) { accessToken expiresAt errors { code field message } }
}`;
const PARTNER = `query PortalPartner { affiliatePortal { partner { code company status payoutCurrency brands } scopes } }`;

/** The partner signed in (`code`, `company`, `brands`, …) and what the viewer may do (`can`), or null. */
export const partner = {
  current: null,
  scopes: new Set(),
  async load() {
    const result = await client.query(PARTNER);
    const portal = result.data?.affiliatePortal;
    this.current = portal?.partner ?? null;
    this.scopes = new Set(portal?.scopes ?? []);
    return this.current;
  },
  can(scope) {
    return this.scopes.has(scope);
  },
  clear() {
    this.current = null;
    this.scopes = new Set();
  },
};

const SIGN_OUT = `mutation AffiliateSignOut { affiliateSignOut { signedOut errors { code message } } }`;

/** End the sign-in on the server (its token stops working at once), then forget it in the page. */
export async function signOut() {
  if (client.signedIn) await client.request(SIGN_OUT).catch(() => {}); // offline: the token expires on its own
  client.setTokens(null);
}

/** A portal user's sign-in; resolves to the payload (`errors` in words, empty when signed in). */
export async function signIn(email, password) {
  const result = await client.request(SIGN_IN, { input: { email, password } });
  if (result.refused) throw new GraphQLRequestError(result.refused);
  const payload = result.data.affiliateSignIn;
  // A portal sign-in has no refresh token: it ends when the access token expires (the next request is
  // refused and the page returns to this form). `expiresAt` is kept under its own name so the client
  // schedules no refresh it cannot make.
  if (payload.accessToken) client.setTokens({ accessToken: payload.accessToken, expiresAt: payload.expiresAt });
  return payload;
}

/**
 * The back office's `QueryElement`, asking through the portal's client, with what a screen's forms need:
 * `act` runs a mutation with the `busy` and `problem` states, `copy` puts a text on the clipboard.
 */
export class PortalQuery extends QueryElement {
  static properties = {
    ...QueryElement.properties, busy: { state: true }, problem: { state: true }, message: { state: true },
  };

  get client() {
    return client;
  }

  /** The payload of `field`, or null with `problem` said in words (a refusal, a payload error, no network). */
  async act(mutation, variables, field) {
    this.busy = true;
    this.problem = "";
    this.message = "";
    try {
      const result = await client.mutate(mutation, variables);
      this.problem = mutationProblem(result, field);
      return this.problem ? null : result.data?.[field] ?? null;
    } catch (error) {
      this.problem = describeError(error);
      return null;
    } finally {
      this.busy = false;
    }
  }

  /** Copy `text`; without a clipboard (an insecure origin, a refused permission) select `field` for Ctrl+C. */
  async copy(text, field, done) {
    try {
      await navigator.clipboard.writeText(text);
      this.message = done;
    } catch {
      this.renderRoot.querySelector(field)?.select();
      this.message = "Press Ctrl+C (⌘C) to copy the selected text.";
    }
  }
}

// ---- the period -----------------------------------------------------------------------------------

/** A Date as the API's `Date` (the report days are UTC days). */
export function isoDay(date) {
  return date.toISOString().slice(0, 10);
}

function utcDay(year, month, day) {
  return new Date(Date.UTC(year, month, day));
}

/** The named periods a partner picks from; each gives `{from, to}`, both days included. */
export const PRESETS = {
  "this-month": { label: "This month", range: (now) => [utcDay(now.getUTCFullYear(), now.getUTCMonth(), 1), now] },
  "last-month": {
    label: "Last month",
    range: (now) => [utcDay(now.getUTCFullYear(), now.getUTCMonth() - 1, 1), utcDay(now.getUTCFullYear(), now.getUTCMonth(), 0)],
  },
  "last-7": { label: "Last 7 days", range: (now) => [utcDay(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 6), now] },
  "last-30": { label: "Last 30 days", range: (now) => [utcDay(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate() - 29), now] },
};

export function presetPeriod(name, now = new Date()) {
  const [from, to] = PRESETS[name].range(now);
  return { preset: name, from: isoDay(from), to: isoDay(to) };
}

/** The period the screens show, kept while the partner moves between them (and across a reload). */
export const period = {
  value: (() => {
    try {
      return JSON.parse(sessionStorage.getItem(PERIOD_KEY)) ?? presetPeriod("this-month");
    } catch {
      return presetPeriod("this-month");
    }
  })(),
  set(value) {
    this.value = value;
    sessionStorage.setItem(PERIOD_KEY, JSON.stringify(value));
  },
};

/**
 * The period picker: a named period or two dates. Fires `period-change` (detail `{from, to}`) once the
 * period is whole and in order; a reversed range is refused in words, not sent. What a screen puts inside
 * (the stats' grouping) stands in the same row.
 */
class PeriodPicker extends LitElement {
  static properties = { value: { state: true }, problem: { state: true } };
  static styles = [shared, css`:host { margin-bottom: 1rem; }`];

  constructor() {
    super();
    this.value = period.value;
    this.problem = "";
  }

  _pick(value) {
    this.value = value; // what the partner typed stays in the fields, whole or not
    if (!value.from || !value.to) return;
    if (value.from > value.to) {
      this.problem = "The period must start on or before its last day.";
      return;
    }
    this.problem = "";
    period.set(value);
    this.dispatchEvent(new CustomEvent("period-change", { detail: value, bubbles: true, composed: true }));
  }

  _preset(name) {
    if (name) this._pick(presetPeriod(name));
    else this.value = { ...this.value, preset: "" };
  }

  _day(which, day) {
    this._pick({ ...this.value, preset: "", [which]: day });
  }

  render() {
    const { preset = "", from, to } = this.value;
    return html`<div class="row" role="group" aria-label="Period">
        <label>Period <select @change=${(e) => this._preset(e.target.value)}>
          ${Object.entries(PRESETS).map(([name, p]) => html`<option value=${name} ?selected=${preset === name}>${p.label}</option>`)}
          <option value="" ?selected=${!preset}>Chosen days</option></select></label>
        <label>From <input type="date" .value=${from} @change=${(e) => this._day("from", e.target.value)}></label>
        <label>To <input type="date" .value=${to} @change=${(e) => this._day("to", e.target.value)}></label>
        <slot></slot>
      </div>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : ""}`;
  }
}

customElements.define("cp-period", PeriodPicker);

// ---- formatting -------------------------------------------------------------------------------------

/** An amount of the API (a decimal string, or `{amount, currency}`) with its currency. */
export function amount(value, currency) {
  if (value === null || value === undefined || value === "") return "—";
  if (typeof value === "object") return `${value.amount} ${value.currency}`;
  return currency ? `${value} ${currency}` : String(value);
}

/** A count, grouped by thousands (en-GB, as the back office writes dates). */
export function count(value) {
  return value === null || value === undefined ? "—" : new Intl.NumberFormat("en-GB").format(value);
}

/**
 * One line per currency: `rows` grouped by their `currency`, each of `fields` added up (counts as numbers,
 * amounts exactly, as decimals).
 */
export function totalsByCurrency(rows, { counts = [], amounts = [] }) {
  const groups = new Map();
  for (const row of rows) groups.set(row.currency ?? "", [...(groups.get(row.currency ?? "") ?? []), row]);
  return [...groups.entries()].map(([currency, lines]) => ({
    currency,
    ...Object.fromEntries(counts.map((f) => [f, lines.reduce((n, r) => n + (r[f] ?? 0), 0)])),
    ...Object.fromEntries(amounts.map((f) => [f, sum(lines.map((r) => r[f]))])),
  }));
}

/** The exact sum of decimal strings ("12.50", "-3.125"): BigInt at the finest scale, no floating point. */
export function sum(values) {
  const parts = values.map((value) => String(value ?? "0").trim() || "0");
  const scale = Math.max(0, ...parts.map((text) => (text.split(".")[1] ?? "").length));
  const total = parts.reduce((acc, text) => {
    const negative = text.startsWith("-");
    const [whole, fraction = ""] = text.replace(/^[-+]/, "").split(".");
    const units = BigInt((whole || "0") + fraction.padEnd(scale, "0"));
    return acc + (negative ? -units : units);
  }, 0n);
  const sign = total < 0n ? "-" : "";
  const digits = (total < 0n ? -total : total).toString().padStart(scale + 1, "0");
  return scale ? `${sign}${digits.slice(0, -scale)}.${digits.slice(-scale)}` : `${sign}${digits}`;
}
