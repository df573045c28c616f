/**
 * A/B tests: the brand's experiments (status, variants and weights, holdout, metric), a form for a draft
 * (variants as "key:weight" pairs, the first is the control), start and stop (optionally naming the winner),
 * and the result of one experiment: per variant the exposed players, conversions, the rate with its Wilson
 * interval, the difference to the control with Newcombe's interval, and NGR per player with Welch's.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, runStep, viewer, words } from "./ui.js";

const LIST = `query Experiments { crmExperiments(first: 50) { edges { node {
  id name status subjectKind subjectId holdoutPpm winner startedAt createdAt
  variants { key weight } metric { kind days } } } } }`;
const RESULT = `query Result($id: ID!) { crmExperimentResult(id: $id) { metric days currency variants {
  variant control exposed converted rate { estimate low high } difference { estimate low high }
  ngrMean { amount currency } ngrDifference { estimate low high } } } }`;
const CREATE = `mutation($input: CreateExperimentInput!) { createExperiment(input: $input) {
  experiment { id name } errors { code field message } } }`;
const START = `mutation($id: ID!) { startExperiment(input: {id: $id}) { experiment { id } errors { message } } }`;
const STOP = `mutation($id: ID!, $winner: String) { stopExperiment(input: {id: $id, winner: $winner}) {
  experiment { id } errors { message } } }`;

const percent = (value) => `${(value * 100).toFixed(1)} %`;
const interval = (ci, format = percent) => (ci ? `${format(ci.estimate)} [${format(ci.low)}, ${format(ci.high)}]` : "–");

class Experiments extends QueryElement {
  static properties = { ...QueryElement.properties, message: { state: true }, problem: { state: true },
                        busy: { state: true }, shown: { state: true }, outcome: { state: true } };
  query = LIST;
  emptyText = "No A/B test yet.";

  get rootPath() {
    return ["crmExperiments"];
  }

  isEmpty(data) {
    return !data?.crmExperiments?.edges?.length;
  }

  frame(body) {
    return html`<h2>A/B tests</h2>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${viewer.can("Mutation.createExperiment") ? this.form() : nothing}
      <div class="card">${body}</div>
      ${this.outcome ? this.resultTable() : nothing}`;
  }

  form() {
    return html`<form class="card row" aria-label="New A/B test" @submit=${(e) => this.create(e)}>
      <label>Name <input name="name" required></label>
      <label>Subject <select name="subjectKind">${["JOURNEY", "CAMPAIGN", "LOBBY"].map((k) =>
        html`<option value=${k}>${words(k)}</option>`)}</select></label>
      <label>Subject id <input name="subjectId" placeholder="journey, campaign or segment id"></label>
      <label>Variants <input name="variants" value="control:1, b:1"></label>
      <label>Holdout % <input name="holdout" type="number" min="0" max="50" step="0.1" value="10"></label>
      <label>Metric <select name="metric">${["DEPOSITED", "FIRST_DEPOSIT", "BET", "NGR"].map((k) =>
        html`<option value=${k}>${words(k)}</option>`)}</select></label>
      <label>Days <input name="days" type="number" min="1" max="90" value="7"></label>
      <button class="primary" ?disabled=${this.busy}>Create draft</button></form>`;
  }

  renderData(data) {
    const run = viewer.can("Mutation.startExperiment");
    return html`<table><thead><tr><th>Name</th><th>Subject</th><th>Variants</th><th class="num">Holdout</th>
      <th>Metric</th><th>Status</th><th>Steps</th></tr></thead>
      <tbody>${data.crmExperiments.edges.map(({ node }) => html`<tr data-experiment=${node.id}>
        <td>${node.name}</td><td>${words(node.subjectKind)}</td>
        <td>${node.variants.map((v) => `${v.key}:${v.weight}`).join(", ")}</td>
        <td class="num">${(node.holdoutPpm / 10000).toFixed(1)} %</td>
        <td>${words(node.metric.kind)} in ${node.metric.days} d</td>
        <td>${badge(words(node.status))}${node.winner ? html` winner ${node.winner}` : nothing}</td>
        <td><div class="row">
          <button @click=${() => this.showResult(node)}>Result</button>
          ${run && node.status === "DRAFT" ? html`<button class="primary" ?disabled=${this.busy}
            @click=${() => this.step(START, "startExperiment", { id: node.id }, `${node.name} started.`)}>Start</button>` : nothing}
          ${run && node.status === "RUNNING" ? html`<select aria-label="Winner" data-winner=${node.id}>
              <option value="">no winner</option>${node.variants.map((v) => html`<option value=${v.key}>${v.key}</option>`)}
            </select><button class="danger" ?disabled=${this.busy} @click=${() => this.stop(node)}>Stop</button>` : nothing}
        </div></td></tr>`)}</tbody></table>`;
  }

  resultTable() {
    const { name, result } = this.outcome;
    if (!result) return html`<div class="card"><p class="state">No result for ${name}.</p></div>`;
    return html`<div class="card" aria-label="Result"><h3>${name}: ${words(result.metric)} within ${result.days} days</h3>
      <table><thead><tr><th>Variant</th><th class="num">Exposed</th><th class="num">Converted</th>
        <th>Rate (95 % CI)</th><th>Difference to control</th><th class="num">NGR per player</th>
        <th>NGR difference</th></tr></thead>
      <tbody>${result.variants.map((v) => html`<tr data-variant=${v.variant ?? "holdout"}>
        <td>${v.variant ?? "holdout"}${v.control ? " (control)" : ""}</td>
        <td class="num">${v.exposed}</td><td class="num">${v.converted}</td>
        <td>${interval(v.rate)}</td><td>${v.control ? "–" : interval(v.difference)}</td>
        <td class="num">${v.ngrMean.amount} ${v.ngrMean.currency}</td>
        <td>${v.control ? "–" : interval(v.ngrDifference, (x) => x.toFixed(2))}</td></tr>`)}</tbody></table></div>`;
  }

  async showResult(node) {
    const answer = await client.query(RESULT, { id: node.id });
    this.outcome = { name: node.name, result: answer.data?.crmExperimentResult ?? null };
  }

  async create(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const variants = String(form.get("variants")).split(",").map((pair) => pair.trim()).filter(Boolean)
      .map((pair) => { const [key, weight] = pair.split(":"); return { key: key.trim(), weight: Number(weight ?? 1) }; });
    const input = {
      name: form.get("name"), subjectKind: form.get("subjectKind"), subjectId: form.get("subjectId") || null,
      variants, holdoutPpm: Math.round(Number(form.get("holdout")) * 10000),
      metric: { kind: form.get("metric"), days: Number(form.get("days")) }, brandCode: client.brand ?? null,
    };
    await this.step(CREATE, "createExperiment", { input }, `${input.name} saved as a draft.`);
  }

  async stop(node) {
    const winner = this.renderRoot.querySelector(`[data-winner="${node.id}"]`)?.value || null;
    await this.step(STOP, "stopExperiment", { id: node.id, winner }, `${node.name} stopped.`);
  }

  step(mutation, field, variables, done) {
    return runStep(this, mutation, field, variables, done);
  }
}

customElements.define("cr-experiments", Experiments);
