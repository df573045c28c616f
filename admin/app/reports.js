/**
 * Reports: the KPIs of a range of UTC days for the brand picked in the header (the client's
 * X-Croupier-Brand; this screen has no brand picker of its own), in their original currencies or
 * converted into the reporting currency at each day's reference rate.
 *
 * Tiles give the range's totals (the range as one period, so a player active on several days counts
 * once); uPlot charts the same figures per day, week or month, each with its numbers in a table for
 * those who cannot see the chart. Cohorts, top games, downloads and returns follow as sections
 * (report-tables.js, returns.js). What a role may not read is not shown: marketing gets the audience
 * figures, the books' money is not even asked for, and the finance-only sections are left out.
 */
import { LitElement, css, html, nothing } from "lit";
import uPlot from "uplot";
import { codeOf, describeError } from "../graphql-client.js";
import { ReportSection, amounts, percent, periodLabel, shiftDay, utcToday } from "./report-common.js";
import { client, download, money, shared, viewer } from "./ui.js";
import "./report-tables.js";
import "./returns.js";

const DEFAULT_DAYS = 30;

// ---- the screen: the window every section reports on ------------------------------------------------

class Reports extends LitElement {
  static properties = { window: { state: true }, reportingCurrency: { state: true } };
  static styles = [shared, css`
    form { margin-bottom: 1rem; }
    fieldset { border: 0; padding: 0; margin: 0; min-width: 0; }
    legend { font-size: .85rem; color: var(--muted); padding: 0; margin-bottom: .25rem; }
    .choices { display: flex; gap: 1rem; align-items: center; min-height: 2.3rem; }
    .choices label { display: inline-flex; flex-direction: row; gap: .35rem; align-items: center; color: var(--ink);
      font-size: .9rem; white-space: nowrap; }
    .sections { display: grid; gap: 1rem; }
  `];

  constructor() {
    super();
    const end = utcToday();
    this.window = { start: shiftDay(end, 1 - DEFAULT_DAYS), end, period: "DAY", currency: null };
    this.reportingCurrency = null;
  }

  connectedCallback() {
    super.connectedCallback();
    this.loadReportingCurrency();
  }

  async loadReportingCurrency() {
    try {
      const result = await client.query(`{ reportingCurrency }`);
      this.reportingCurrency = result.data?.reportingCurrency ?? null;
    } catch {
      this.reportingCurrency = null; // the toggle is left out; the original currencies still show
    }
  }

  change(event) {
    const form = new FormData(event.currentTarget);
    const converted = form.get("currency") === "reporting" && this.reportingCurrency;
    this.window = {
      start: String(form.get("start") || this.window.start),
      end: String(form.get("end") || this.window.end),
      period: String(form.get("period")),
      currency: converted ? this.reportingCurrency : null,
    };
  }

  render() {
    const w = this.window;
    const backwards = w.end < w.start;
    return html`<h2>Reports</h2>
      <form class="card row" aria-label="What to report" @change=${this.change} @submit=${(e) => e.preventDefault()}>
        <label>From <input type="date" name="start" .value=${w.start} max=${w.end} required></label>
        <label>To <input type="date" name="end" .value=${w.end} min=${w.start} required></label>
        <label>Group by <select name="period">
          ${[["DAY", "Day"], ["WEEK", "Week"], ["MONTH", "Month"]].map(([value, label]) => html`
            <option value=${value} ?selected=${w.period === value}>${label}</option>`)}
        </select></label>
        ${this.reportingCurrency ? html`<fieldset>
          <legend>Currencies</legend><div class="choices">
          <label><input type="radio" name="currency" value="original" .checked=${!w.currency}> Original currencies</label>
          <label><input type="radio" name="currency" value="reporting" .checked=${Boolean(w.currency)}>
            In ${this.reportingCurrency} (reporting currency)</label></div>
        </fieldset>` : nothing}
        <span class="muted">UTC days, both included.</span>
      </form>
      ${backwards ? html`<p class="error" role="alert">The range ends before it starts: pick a “To” day on or after the “From” day.</p>`
        : html`<div class="sections">
          <cr-report-figures .window=${w}></cr-report-figures>
          ${viewer.can("Query.reportExport") ? html`<cr-report-downloads .window=${w}></cr-report-downloads>` : nothing}
          ${viewer.can("Query.reportRetention") ? html`<cr-report-retention .window=${w}></cr-report-retention>` : nothing}
          ${viewer.can("Query.reportLifetimeValue") ? html`<cr-report-value .window=${w}></cr-report-value>` : nothing}
          ${viewer.can("Query.reportGames") ? html`<cr-report-games .window=${w}></cr-report-games>` : nothing}
          ${viewer.can("Query.regulatoryReturns") ? html`<cr-regulatory-returns></cr-regulatory-returns>` : nothing}
        </div>`}`;
  }
}

// ---- KPI tiles and charts -------------------------------------------------------------------------

// The books' money is asked for only when the role may read it ($books): marketing's requests carry
// none of it, rather than a FORBIDDEN error per figure and period.
const FIGURES = `query ReportFigures($start: Date!, $end: Date!, $period: ReportPeriod!, $currency: String,
    $books: Boolean!) {
  total: reportFigures(start: $start, end: $end, period: RANGE, reportingCurrency: $currency) {
    byCurrency { ...ReportMoneyFields } converted { ...ReportMoneyFields } }
  series: reportFigures(start: $start, end: $end, period: $period, reportingCurrency: $currency) {
    start end byCurrency { ...ReportMoneyFields } converted { ...ReportMoneyFields } }
  registered: reportRegistrations(start: $start, end: $end, period: RANGE) {
    registrations depositors conversion ftdCount }
  registrations: reportRegistrations(start: $start, end: $end, period: $period) { start end registrations ftdCount }
}
fragment ReportMoneyFields on ReportMoney { currency
  turnover @include(if: $books) { amount currency } ggr @include(if: $books) { amount currency }
  ngr @include(if: $books) { amount currency } hold @include(if: $books)
  deposits @include(if: $books) { amount currency } depositCount
  withdrawals @include(if: $books) { amount currency } withdrawalCount @include(if: $books)
  ftdCount activePlayers payingPlayers arppu { amount currency } }`;

/** The figures of one period in the chosen currencies: the converted ones, or one per original currency. */
function shown(figures, converted) {
  if (!figures) return [];
  return converted ? [figures.converted].filter(Boolean) : figures.byCurrency;
}

/** Per-currency lines of a count or ratio ("1 · EUR"), or the bare value when there is one currency. */
function perCurrency(list, value) {
  if (!list.length) return "—";
  if (list.length === 1) return value(list[0]);
  return list.map((m) => html`<div>${value(m)} <span class="muted">${m.currency}</span></div>`);
}

const BOOKS = ["turnover", "ggr", "ngr", "hold", "deposits", "withdrawals"];
const CHARTS = [
  { name: "revenue", title: "GGR and NGR", needs: "ReportMoney.ggr",
    series: [["GGR", "ggr", "#3454d1"], ["NGR", "ngr", "#7c3aed"]] },
  { name: "cashier", title: "Deposits and withdrawals", needs: "ReportMoney.deposits",
    series: [["Deposits", "deposits", "#1d9a5b"], ["Withdrawals", "withdrawals", "#c0262d"]] },
  { name: "players", title: "Active players, registrations and first deposits", needs: "ReportMoney.activePlayers",
    series: [["Active players", "activePlayers", "#c2410c"]] },
];

class ReportFigures extends ReportSection {
  heading = "Key figures";
  query = FIGURES;
  static styles = [ReportSection.styles, css`
    .tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(190px, 1fr)); gap: .75rem; margin-bottom: 1rem; }
    .tile { padding: .75rem; }
    .tile .label { color: var(--muted); font-size: .85rem; }
    .tile .value { font-size: 1.5rem; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.25; }
    .tile .value > div { font-size: 1.15rem; }
    .tile .note { color: var(--muted); font-size: .8rem; }
    .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(420px, 1fr)); gap: 1rem; }
    figure { margin: 0; }
    .chart { min-height: 240px; }
    details { margin-top: .25rem; font-size: .85rem; }
  `];

  constructor() {
    super();
    this.charts = [];
  }

  get rootPath() {
    return ["total"];
  }

  get converted() {
    return Boolean(this.window.currency);
  }

  variables() {
    const { start, end, period, currency } = this.window;
    return { start, end, period, currency, books: BOOKS.some((name) => viewer.can(`ReportMoney.${name}`)) };
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this.dropCharts();
  }

  dropCharts() {
    this.resize?.disconnect();
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
  }

  /** A tile the role may read; a figure that still comes back null (refused) says so instead of a number. */
  tile(name, label, needs, value, note = nothing) {
    if (!viewer.can(needs)) return nothing;
    return html`<div class="card tile" data-figure=${name} role="group" aria-label=${label}>
      <div class="label">${label}</div>
      <div class="value">${value ?? html`<span class="muted" style="font-size:1rem">not permitted</span>`}</div>
      ${note}</div>`;
  }

  /** The value of a tile from every shown currency; null when the server refused the field. */
  figure(list, field, format) {
    const refused = this.result.errorsAt("total").some((e) => codeOf(e) === "FORBIDDEN" && e.path.at(-1) === field);
    return refused ? null : perCurrency(list, (m) => format(m[field]));
  }

  renderData(data) {
    const totals = shown(data.total[0], this.converted);
    const registered = data.registered?.[0];
    const money = (field) => this.figure(totals, field, (value) => moneyText(value));
    return html`
      <link rel="stylesheet" href="node_modules/uplot/dist/uPlot.min.css">
      <div class="tiles" aria-live="polite">
        ${this.tile("ggr", "GGR", "ReportMoney.ggr", money("ggr"))}
        ${this.tile("ngr", "NGR", "ReportMoney.ngr", money("ngr"))}
        ${this.tile("turnover", "Turnover", "ReportMoney.turnover", money("turnover"))}
        ${this.tile("hold", "Hold", "ReportMoney.hold", this.figure(totals, "hold", (value) => percent(value)))}
        ${this.tile("deposits", "Deposits", "ReportMoney.deposits", money("deposits"),
          html`<div class="note">${count(totals, "depositCount")} deposits</div>`)}
        ${this.tile("withdrawals", "Withdrawals", "ReportMoney.withdrawals", money("withdrawals"),
          html`<div class="note">${count(totals, "withdrawalCount")} paid out</div>`)}
        ${this.tile("ftds", "First-time deposits", "Query.reportRegistrations", registered?.ftdCount ?? "—")}
        ${this.tile("conversion", "Registration → FTD", "Query.reportRegistrations", percent(registered?.conversion),
          registered ? html`<div class="note">${registered.depositors} of ${registered.registrations} registered</div>` : nothing)}
        ${this.tile("active-players", "Active players", "ReportMoney.activePlayers",
          this.figure(totals, "activePlayers", (value) => value))}
        ${this.tile("arppu", "ARPPU", "ReportMoney.arppu", money("arppu"))}
      </div>
      ${this.converted || totals.length ? nothing : html`<p class="state">No money moved in this range.</p>`}
      ${this.variables().books ? nothing : html`<p class="muted">Your role sees the audience figures; the books' money
        (GGR, turnover, deposits, withdrawals) is not shown.</p>`}
      <div class="charts">${this.chartSpecs(data).map((chart) => html`
        <figure data-chart=${chart.name}>
          <div class="chart" role="img" aria-label="${chart.title} per ${this.window.period.toLowerCase()}, as in the table below"></div>
          <figcaption><details><summary>${chart.title}: the figures</summary>${this.table(chart)}</details></figcaption>
        </figure>`)}</div>`;
  }

  /** What each chart plots: one line per figure and currency, over the periods of the range. */
  chartSpecs(data) {
    const periods = data.series ?? [];
    const x = periods.map((p) => Date.parse(`${p.start}T00:00:00Z`) / 1000);
    const codes = [...new Set(periods.flatMap((p) => shown(p, this.converted).map((m) => m.currency)))].sort();
    return CHARTS.filter((chart) => viewer.can(chart.needs)).map((chart) => {
      const series = [];
      for (const [label, field, stroke] of chart.series) {
        codes.forEach((code, i) => {
          // A period in which a currency saw no activity has no entry for it: nothing happened, so 0.
          const cells = periods.map((p) => shown(p, this.converted).find((m) => m.currency === code)?.[field] ?? 0);
          series.push({
            label: codes.length > 1 ? `${label} ${code}` : label,
            stroke, dash: i ? [6, 4] : undefined, unit: chart.name === "players" ? "" : code,
            values: cells.map(number), texts: cells.map((value) => (typeof value === "object" ? value.amount : value)),
          });
        });
      }
      if (chart.name === "players" && data.registrations) {
        const registered = data.registrations.map((r) => r.registrations);
        const ftds = data.registrations.map((r) => r.ftdCount);
        series.push({ label: "Registrations", stroke: "#64748b", unit: "", values: registered, texts: registered });
        series.push({ label: "First deposits", stroke: "#3454d1", unit: "", values: ftds, texts: ftds });
      }
      return { ...chart, x, periods, series };
    });
  }

  table(chart) {
    return html`<table>
      <thead><tr><th>Period</th>${chart.series.map((s) => html`<th class="num">${s.label}${s.unit ? ` (${s.unit})` : ""}</th>`)}</tr></thead>
      <tbody>${chart.periods.map((p, i) => html`<tr><td>${periodLabel(p)}</td>
        ${chart.series.map((s) => html`<td class="num">${s.texts[i] ?? "—"}</td>`)}</tr>`)}</tbody></table>`;
  }

  updated(changed) {
    super.updated?.(changed);
    if (changed.has("result")) this.drawCharts();
  }

  drawCharts() {
    this.dropCharts();
    if (!this.result?.data?.series) return;
    const figures = [...this.renderRoot.querySelectorAll("figure[data-chart]")];
    const specs = this.chartSpecs(this.result.data);
    const width = (el) => Math.max(el.clientWidth - 8, 300);
    this.charts = figures.map((figure, i) => {
      const spec = specs[i];
      const box = figure.querySelector(".chart");
      return new uPlot({
        width: width(box), height: 220,
        series: [{}, ...spec.series.map((s) => ({ label: s.label, stroke: s.stroke, dash: s.dash, width: 2,
          points: { show: true, size: 5 }, value: (u, v) => (v == null ? "—" : `${v}${s.unit ? ` ${s.unit}` : ""}`) }))],
        axes: [{}, { size: 60 }],
        scales: {
          x: { time: true, range: (u, min, max) => (min === max ? [min - 86400, max + 86400] : [min, max]) },
          y: { range: (u, min, max) => [Math.min(0, min ?? 0), Math.max(max ?? 0, 1) * 1.1] },
        },
      }, [spec.x, ...spec.series.map((s) => s.values)], box);
    });
    const boxes = figures.map((figure) => figure.querySelector(".chart"));
    this.resize = new ResizeObserver(() => {
      this.charts.forEach((chart, i) => chart.setSize({ width: width(boxes[i]), height: 220 }));
    });
    for (const box of boxes) this.resize.observe(box);
  }
}

function moneyText(value) {
  return value ? money(value) : "—";
}

/** A figure as uPlot draws it (amounts are decimal strings; a chart needs no more precision than a float). */
function number(value) {
  if (value == null) return null;
  return typeof value === "object" ? Number(value.amount) : Number(value);
}

function count(list, field) {
  return list.reduce((sum, m) => sum + (m[field] ?? 0), 0);
}

// ---- downloads ------------------------------------------------------------------------------------

const EXPORT = `query ReportExport($kind: ReportExportKind!, $start: Date!, $end: Date!, $format: ReportFormat!) {
  reportExport(kind: $kind, start: $start, end: $end, format: $format) { filename mediaType rows sha256 contentBase64 }
}`;
const EXPORTS = [
  ["FIGURES", "Key figures", "per day and currency"],
  ["GAMES", "Games", "per day, brand, jurisdiction, currency and game"],
  ["CASHIER", "Cashier", "money in and out and the bonus cost per day, brand and currency"],
];

class ReportDownloads extends LitElement {
  static properties = { window: { attribute: false }, busy: { state: true }, message: { state: true },
                        problem: { state: true } };
  static styles = [shared, css`ul { list-style: none; padding: 0; margin: 0; display: grid; gap: .5rem; }
    li { display: flex; gap: .75rem; align-items: center; flex-wrap: wrap; }
    li .what { min-width: 14rem; }`];

  async save(kind, format, label) {
    this.busy = true;
    this.message = "";
    this.problem = "";
    try {
      const { start, end } = this.window;
      const result = await client.query(EXPORT, { kind, start, end, format });
      const file = result.data?.reportExport;
      if (!file) {
        this.problem = describeError(result.refused ?? result.errors[0]);
        return;
      }
      download(file);
      this.message = `${label} saved as ${file.filename} (${file.rows} ${file.rows === 1 ? "row" : "rows"}).`;
    } catch (error) {
      this.problem = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  render() {
    return html`<section class="card" aria-labelledby="downloads">
      <h3 id="downloads">Downloads</h3>
      <p class="muted">The range ${this.window.start} to ${this.window.end}, every currency as it was (amounts in minor units).</p>
      <ul>${EXPORTS.map(([kind, label, what]) => html`<li>
        <span class="what"><strong>${label}</strong> <span class="muted">${what}</span></span>
        ${[["CSV", "CSV"], ["PARQUET", "Parquet"]].map(([format, name]) => html`
          <button ?disabled=${this.busy} aria-label="Download ${label.toLowerCase()} as ${name}"
            @click=${() => this.save(kind, format, label)}>${name}</button>`)}
      </li>`)}</ul>
      <div aria-live="polite">
        ${this.busy ? html`<p class="state">Preparing the file…</p>` : nothing}
        ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      </div>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
    </section>`;
  }
}

customElements.define("cr-reports", Reports);
customElements.define("cr-report-figures", ReportFigures);
customElements.define("cr-report-downloads", ReportDownloads);
