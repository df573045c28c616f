/**
 * Live operations: the `operationsFeed` subscription (graphql-transport-ws) pushes the figures of
 * the viewer's brand scope when money moves (at most once a second) and every few seconds anyway;
 * the tiles show the latest figures and the charts (uPlot) the last ten minutes of them.
 */
import { LitElement, css, html, nothing } from "lit";
import uPlot from "uplot";
import { describeError } from "../graphql-client.js";
import { client, money, shared, when } from "./ui.js";

const FEED = `subscription Feed { operationsFeed { at trigger betsPerMinute winsPerMinute activePlayers
  ggrToday { amount currency } depositsToday { amount currency } } }`;
const WINDOW_SECONDS = 600;

class Dashboard extends LitElement {
  static properties = { figures: { state: true }, problem: { state: true }, live: { state: true } };
  static styles = [shared, css`
    .tiles { display: grid; grid-template-columns: repeat(auto-fit, minmax(200px, 1fr)); gap: 1rem; margin-bottom: 1rem; }
    .tile .value > div { font-size: 1.35rem; }
    .tile .value { font-size: 1.9rem; font-weight: 700; font-variant-numeric: tabular-nums; line-height: 1.2; }
    .tile .label { color: var(--muted); font-size: .85rem; }
    .charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 1rem; }
    .chart { min-height: 240px; }
    .live { display: inline-flex; align-items: center; gap: .35rem; font-size: .85rem; color: var(--muted); }
    .dot { width: .6rem; height: .6rem; border-radius: 50%; background: var(--muted); }
    .dot.on { background: var(--good); }
  `];

  constructor() {
    super();
    this.figures = null;
    this.problem = "";
    this.live = false;
    this.series = { at: [], bets: [], wins: [], active: [] };
    this.charts = [];
  }

  connectedCallback() {
    super.connectedCallback();
    this.stop = client.subscribe(FEED, {}, {
      next: (result) => this.receive(result),
      error: (error) => {
        this.live = false;
        this.problem = describeError(error);
      },
      complete: () => {
        this.live = false;
      },
    });
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this.stop?.();
    this.resize?.disconnect();
    for (const chart of this.charts) chart.destroy();
    this.charts = [];
  }

  receive(result) {
    const figures = result.data?.operationsFeed;
    if (!figures) {
      this.problem = describeError(result.errors[0]);
      return;
    }
    this.problem = "";
    this.live = true;
    this.figures = figures;
    const at = Date.parse(figures.at) / 1000;
    const s = this.series;
    s.at.push(at);
    s.bets.push(figures.betsPerMinute);
    s.wins.push(figures.winsPerMinute);
    s.active.push(figures.activePlayers);
    while (s.at.length && s.at[0] < at - WINDOW_SECONDS) {
      for (const list of Object.values(s)) list.shift();
    }
    this.charts[0]?.setData([s.at, s.bets, s.wins]);
    this.charts[1]?.setData([s.at, s.active]);
  }

  updated() {
    if (this.charts.length || !this.figures) return;
    const width = (el) => Math.max(el.clientWidth - 8, 300);
    const make = (el, title, series) => new uPlot({
      title, width: width(el), height: 220, series: [{}, ...series],
      axes: [{}, { size: 50 }],
      scales: {
        // The last ten minutes up to the newest figure, so the lines move left as time passes.
        x: { time: true, range: () => { const last = this.series.at.at(-1) ?? Date.now() / 1000; return [last - WINDOW_SECONDS, last]; } },
        y: { range: (u, min, max) => [0, Math.max(max + 1, 3)] },
      },
    }, [this.series.at, ...series.map(() => [])], el);
    const [rates, players] = this.renderRoot.querySelectorAll(".chart");
    this.charts = [
      make(rates, "Bets and wins per minute", [{ label: "Bets", stroke: "#3454d1", width: 2 },
        { label: "Wins", stroke: "#1d9a5b", width: 2 }]),
      make(players, "Active players (15 min)", [{ label: "Players", stroke: "#c2410c", width: 2 }]),
    ];
    this.charts[0].setData([this.series.at, this.series.bets, this.series.wins]);
    this.charts[1].setData([this.series.at, this.series.active]);
    this.resize = new ResizeObserver(() => {
      this.charts[0]?.setSize({ width: width(rates), height: 220 });
      this.charts[1]?.setSize({ width: width(players), height: 220 });
    });
    this.resize.observe(rates);
  }

  tile(name, label, value) {
    return html`<div class="card tile" data-figure=${name}><div class="label">${label}</div>
      <div class="value" aria-live="polite">${value}</div></div>`;
  }

  render() {
    const f = this.figures;
    const amounts = (list) => (list?.length ? list.map((m) => html`<div>${money(m)}</div>`) : "0");
    return html`
      <link rel="stylesheet" href="node_modules/uplot/dist/uPlot.min.css">
      <div class="row" style="justify-content:space-between;align-items:baseline">
        <h2>Live operations</h2>
        <span class="live"><span class="dot ${this.live ? "on" : ""}"></span>
          ${this.live ? html`live · updated ${when(f?.at)}` : "connecting…"}</span>
      </div>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${f ? html`
        <div class="tiles">
          ${this.tile("bets-per-minute", "Bets per minute", f.betsPerMinute)}
          ${this.tile("wins-per-minute", "Wins per minute", f.winsPerMinute)}
          ${this.tile("ggr-today", "GGR today", amounts(f.ggrToday))}
          ${this.tile("deposits-today", "Deposits today", amounts(f.depositsToday))}
          ${this.tile("active-players", "Active players", f.activePlayers)}
        </div>
        <div class="charts"><div class="card chart"></div><div class="card chart"></div></div>`
        : this.problem ? nothing : html`<p class="state" aria-live="polite">Waiting for the first figures…</p>`}`;
  }
}

customElements.define("cr-dashboard", Dashboard);
