/**
 * What the Reports screen's sections share: the window they report on (a range of UTC days, how to
 * group them, and the currency to convert into, or none for the original currencies), a section that
 * reloads when the window changes, and the formatting of ratios, money lists and periods.
 */
import { css, html } from "lit";
import { QueryElement, money, shared } from "./ui.js";

/** Today's UTC day, as the reports count days ("2026-12-06"). */
export function utcToday() {
  return new Date().toISOString().slice(0, 10);
}

/** The UTC day `days` after (or before) an ISO day. */
export function shiftDay(day, days) {
  const moved = new Date(`${day}T00:00:00Z`);
  moved.setUTCDate(moved.getUTCDate() + days);
  return moved.toISOString().slice(0, 10);
}

/**
 * A titled card around one report query over `window` ({start, end, period, currency}); it loads
 * again whenever the screen hands it another window.
 */
export class ReportSection extends QueryElement {
  static properties = { ...QueryElement.properties, window: { attribute: false } };
  static styles = [shared, css`
    tbody th { text-transform: none; letter-spacing: 0; font-size: .9rem; color: var(--ink); }
  `];

  willUpdate(changed) {
    if (changed.has("window") && changed.get("window")) this.reload();
  }

  frame(body) {
    const id = `report-${this.localName}`;
    return html`<section class="card" aria-labelledby=${id} aria-busy=${this.loading ? "true" : "false"}>
      <h3 id=${id}>${this.heading}</h3>${body}</section>`;
  }
}

/** "0.0523" → "5.23 %"; null (nothing to divide by) → "—". */
export function percent(ratio, digits = 2) {
  return ratio == null ? "—" : `${(Number(ratio) * 100).toFixed(digits)} %`;
}

/** A list of money values, one per line ("—" when there is none). */
export function amounts(list) {
  const shown = (list ?? []).filter(Boolean);
  return shown.length ? shown.map((m) => html`<div>${money(m)}</div>`) : "—";
}

/** A period as the screen names it: "2026-12-06", or "2026-11-30 – 2026-12-06" for a longer one. */
export function periodLabel(row) {
  return row.start === row.end ? row.start : `${row.start} – ${row.end}`;
}
