/**
 * Journeys: the brand's CRM journeys and their versions; the editor (trigger, entry segment, caps, quiet hours in
 * the player's time zone, and the steps list — add, remove, move, each step's fields); save a draft, activate,
 * pause, archive, make a new version (an active journey is never edited in place); the run log of the selected
 * version with each step's outcome and reason. Support reads runs on the player page's API only. Segments, bonus
 * campaigns and the A/B test are picked by name from what the viewer may list (their ids stay in the definition);
 * with an A/B test, each send step takes a template per variant.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, mutationProblem, shortId, viewer, when, words } from "./ui.js";

const LIST = `query Journeys { journeys(first: 100) { edges { node {
  id key version name status triggerKind definition updatedAt } } } }`;
const RUNS = `query JourneyRuns($id: ID!) { journey(id: $id) { id runs(first: 50) { edges { node {
  id playerId status reason decidedAt dueAt steps { step kind outcome reason at } } } } } }`;
const FIELDS = "journey { id version status } errors { code field message }";
const CREATE = `mutation($input: CreateJourneyInput!) { createJourney(input: $input) { ${FIELDS} } }`;
const UPDATE = `mutation($input: UpdateJourneyInput!) { updateJourney(input: $input) { ${FIELDS} } }`;
const VERSION = `mutation($input: NewJourneyVersionInput!) { newJourneyVersion(input: $input) { ${FIELDS} } }`;
const STATUS = `mutation($input: SetJourneyStatusInput!) { setJourneyStatus(input: $input) { ${FIELDS} } }`;

// What the pickers list, each asked only of a viewer allowed to list it.
const CHOICES = {
  segments: ["Query.segments", `query JourneySegments { segments(first: 100) { edges { node { id name kind } } } }`,
    (data) => data.segments.edges.map(({ node }) => node)],
  campaigns: ["Query.bonusCampaigns", `query JourneyCampaigns { bonusCampaigns { id name status } }`,
    (data) => data.bonusCampaigns],
  experiments: ["Query.crmExperiments", `query JourneyExperiments { crmExperiments(subjectKind: JOURNEY, first: 100) {
    edges { node { id name status variants { key } } } } }`, (data) => data.crmExperiments.edges.map(({ node }) => node)],
};

/** The uuid inside a relay global id (base64 of "Type:uuid"): what a journey's definition holds. */
function rawId(globalId) {
  return atob(globalId).split(":")[1];
}

const TRIGGERS = ["registered", "first_deposit", "big_win", "inactive", "no_deposit"];
const KINDS = ["send", "wait", "condition", "offer", "tag", "move_to_segment"];
const TESTS = ["has_not_deposited", "has_deposited", "in_segment", "not_in_segment", "has_tag", "lacks_tag"];
const CHANNELS = ["email", "inbox", "sms", "push"];
const BLANK = {
  send: { kind: "send", channel: "email", template: "", product: "casino" },
  wait: { kind: "wait", minutes: 60 },
  condition: { kind: "condition", test: "has_not_deposited" },
  offer: { kind: "offer", campaign_id: "", product: "casino" },
  tag: { kind: "tag", tag: "" },
  move_to_segment: { kind: "move_to_segment", segment_id: "" },
};

function fresh() {
  return { trigger: { kind: "registered" }, cap: { max_entries: 1, per_days: null },
           quiet_hours: { start: "21:00", end: "09:00" }, entry_segment_id: null, steps: [{ ...BLANK.send }] };
}

/** The list of journeys, the editor of the chosen one and its run log. */
class Journeys extends QueryElement {
  static properties = { ...QueryElement.properties, chosen: { state: true }, draft: { state: true },
                        name: { state: true }, message: { state: true }, problem: { state: true },
                        busy: { state: true }, choices: { state: true } };
  query = LIST;
  emptyText = "No journey yet.";

  get rootPath() {
    return ["journeys"];
  }

  isEmpty(data) {
    return !data?.journeys?.edges?.length;
  }

  render() {
    if (this.hidden) return nothing;
    const create = viewer.can("Mutation.createJourney");
    return html`<h2>Journeys</h2>
      ${create ? html`<button class="primary" @click=${() => this.open(null)}>New journey</button>` : nothing}
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card">${this.body()}</div>
      ${this.draft ? this.editor() : nothing}
      ${this.chosen ? html`<cr-journey-runs .journeyId=${this.chosen.id}></cr-journey-runs>` : nothing}`;
  }

  renderData(data) {
    return html`<table aria-label="Journeys">
      <thead><tr><th>Name</th><th class="num">Version</th><th>Trigger</th><th>Status</th><th>Changed</th><th></th></tr></thead>
      <tbody>${data.journeys.edges.map(({ node }) => html`<tr data-journey=${node.id}>
        <td>${node.name}</td><td class="num">v${node.version}</td><td>${words(node.triggerKind)}</td>
        <td>${badge(node.status)}</td><td>${when(node.updatedAt)}</td>
        <td><button @click=${() => this.open(node)}>Open</button></td></tr>`)}</tbody></table>`;
  }

  async loadChoices() {
    const loaded = {};
    await Promise.all(Object.entries(CHOICES).map(async ([key, [coordinate, query, rows]]) => {
      if (!viewer.can(coordinate)) return;
      const result = await client.query(query, {});
      loaded[key] = result.data ? rows(result.data) : [];
    }));
    this.choices = loaded;
  }

  /** A select of `key`'s choices (segments, campaigns, experiments) by name, valued by their raw id. */
  picker(key, label, value, set, { none = null, only = () => true } = {}) {
    const rows = (this.choices?.[key] ?? []).filter(only);
    const known = rows.some((row) => rawId(row.id) === value);
    return html`<label>${label} <select aria-label=${label} .value=${value ?? ""}
        @change=${(e) => set(e.target.value || null)}>
      ${none !== null ? html`<option value="" ?selected=${!value}>${none}</option>` : nothing}
      ${none === null && !value ? html`<option value="" selected disabled>choose…</option>` : nothing}
      ${value && !known ? html`<option value=${value} selected>${shortId(value)} (not listed)</option>` : nothing}
      ${rows.map((row) => html`<option value=${rawId(row.id)} ?selected=${rawId(row.id) === value}>${row.name}</option>`)}
    </select></label>`;
  }

  open(node, { keepMessage = false } = {}) {
    if (!this.choices) this.loadChoices();
    this.chosen = node;
    this.name = node ? node.name : "";
    this.draft = structuredClone(node ? node.definition : fresh());
    if (!keepMessage) this.message = this.problem = "";
  }

  get editable() {
    return !this.chosen || this.chosen.status === "DRAFT";
  }

  change(mutate) {
    const next = structuredClone(this.draft);
    mutate(next);
    this.draft = next;
  }

  editor() {
    const d = this.draft;
    const off = !this.editable;
    const t = d.trigger;
    return html`<form class="card" aria-label="Journey editor" @submit=${(e) => { e.preventDefault(); this.save(); }}>
      <h3>${this.chosen ? `${this.chosen.name} v${this.chosen.version}` : "New journey"}
        ${this.chosen ? badge(this.chosen.status) : nothing}</h3>
      ${off ? html`<p class="state">An ${words(this.chosen.status)} journey is not edited in place: make a new
        version.</p>` : nothing}
      <fieldset ?disabled=${off}>
        <div class="row">
          <label>Name <input name="name" required .value=${this.name ?? ""}
            @input=${(e) => { this.name = e.target.value; }}></label>
          <label>Trigger <select name="trigger" .value=${t.kind}
            @change=${(e) => this.change((n) => { n.trigger = { kind: e.target.value }; if (e.target.value === "big_win") n.trigger.min_amount = { EUR: "500.00" }; if (e.target.value === "inactive") n.trigger.days = 14; if (e.target.value === "no_deposit") n.trigger.hours = 24; })}>
            ${TRIGGERS.map((k) => html`<option value=${k} ?selected=${k === t.kind}>${words(k)}</option>`)}</select></label>
          ${t.kind === "big_win" ? html`
            <label>Win at least (EUR) <input name="minAmount" .value=${t.min_amount?.EUR ?? ""}
              @change=${(e) => this.change((n) => { n.trigger.min_amount = e.target.value ? { EUR: e.target.value } : {}; })}></label>
            <label>or × stake <input name="minMultiplier" type="number" .value=${t.min_multiplier ?? ""}
              @change=${(e) => this.change((n) => { n.trigger.min_multiplier = e.target.value ? Number(e.target.value) : null; })}></label>` : nothing}
          ${t.kind === "inactive" ? html`<label>Days inactive <input name="days" type="number" .value=${t.days}
            @change=${(e) => this.change((n) => { n.trigger.days = Number(e.target.value); })}></label>` : nothing}
          ${t.kind === "no_deposit" ? html`<label>Hours after registration <input name="hours" type="number" .value=${t.hours}
            @change=${(e) => this.change((n) => { n.trigger.hours = Number(e.target.value); })}></label>` : nothing}
        </div>
        <div class="row">
          <label>Entries per player <input name="maxEntries" type="number" min="1" .value=${d.cap?.max_entries ?? 1}
            @change=${(e) => this.change((n) => { n.cap = { ...(n.cap ?? {}), max_entries: Number(e.target.value) }; })}></label>
          <label>within days <input name="perDays" type="number" min="1" placeholder="ever" .value=${d.cap?.per_days ?? ""}
            @change=${(e) => this.change((n) => { n.cap = { ...(n.cap ?? {}), per_days: e.target.value ? Number(e.target.value) : null }; })}></label>
          <label><input type="checkbox" name="quiet" .checked=${Boolean(d.quiet_hours)}
            @change=${(e) => this.change((n) => { n.quiet_hours = e.target.checked ? { start: "21:00", end: "09:00" } : null; })}>
            Quiet hours (player's time)</label>
          ${d.quiet_hours ? html`
            <label>from <input name="quietStart" type="time" .value=${d.quiet_hours.start.slice(0, 5)}
              @change=${(e) => this.change((n) => { n.quiet_hours.start = e.target.value; })}></label>
            <label>to <input name="quietEnd" type="time" .value=${d.quiet_hours.end.slice(0, 5)}
              @change=${(e) => this.change((n) => { n.quiet_hours.end = e.target.value; })}></label>` : nothing}
          ${this.picker("segments", "Entry segment", d.entry_segment_id,
            (id) => this.change((n) => { n.entry_segment_id = id; }), { none: "everyone" })}
          ${this.picker("experiments", "A/B test", d.experiment_id,
            (id) => this.change((n) => { n.experiment_id = id; }), { none: "none" })}
        </div>
        <ol aria-label="Steps">${d.steps.map((step, i) => this.stepRow(step, i))}</ol>
        <div class="row">
          <label>New step <select name="newStep">${KINDS.map((k) => html`<option value=${k}>${words(k)}</option>`)}</select></label>
          <button type="button" @click=${(e) => { const kind = e.target.closest("div").querySelector("select").value; this.change((n) => n.steps.push({ ...BLANK[kind] })); }}>Add step</button>
        </div>
      </fieldset>
      <div class="row">
        ${this.editable ? html`<button class="primary" type="submit" ?disabled=${this.busy}>Save draft</button>` : nothing}
        ${this.chosen ? this.lifecycle() : nothing}
      </div>
    </form>`;
  }

  stepRow(step, i) {
    const set = (key, value) => this.change((n) => { n.steps[i][key] = value; });
    const field = (key, label, attrs = {}) => html`<label>${label} <input name=${`${key}-${i}`} aria-label=${`${label} of step ${i + 1}`}
      type=${attrs.type ?? "text"} .value=${step[key] ?? ""}
      @change=${(e) => set(key, attrs.type === "number" ? Number(e.target.value) : e.target.value)}></label>`;
    let fields = nothing;
    if (step.kind === "send") {
      fields = html`<label>Channel <select aria-label=${`Channel of step ${i + 1}`} .value=${step.channel}
          @change=${(e) => set("channel", e.target.value)}>${CHANNELS.map((c) => html`<option ?selected=${c === step.channel}>${c}</option>`)}</select></label>
        ${field("template", "Template")}
        ${this.variantTemplates(step, i, set)}`;
    } else if (step.kind === "wait") {
      fields = field("minutes", "Minutes", { type: "number" });
    } else if (step.kind === "condition") {
      fields = html`<label>Test <select aria-label=${`Test of step ${i + 1}`} .value=${step.test}
          @change=${(e) => set("test", e.target.value)}>${TESTS.map((c) => html`<option value=${c} ?selected=${c === step.test}>${words(c)}</option>`)}</select></label>
        ${step.test.endsWith("segment") ? this.picker("segments", `Segment of step ${i + 1}`, step.segment_id,
          (id) => set("segment_id", id)) : nothing}
        ${step.test.endsWith("tag") ? field("tag", "Tag") : nothing}`;
    } else if (step.kind === "offer") {
      fields = this.picker("campaigns", `Campaign of step ${i + 1}`, step.campaign_id, (id) => set("campaign_id", id));
    } else if (step.kind === "tag") {
      fields = field("tag", "Tag");
    } else {
      fields = this.picker("segments", `Segment of step ${i + 1}`, step.segment_id, (id) => set("segment_id", id),
        { only: (segment) => segment.kind === "STATIC" });  // only a static segment takes members
    }
    const last = this.draft.steps.length - 1;
    return html`<li class="row" data-step=${i}><strong>${words(step.kind)}</strong> ${fields}
      <button type="button" aria-label=${`Move step ${i + 1} up`} ?disabled=${i === 0}
        @click=${() => this.change((n) => { [n.steps[i - 1], n.steps[i]] = [n.steps[i], n.steps[i - 1]]; })}>↑</button>
      <button type="button" aria-label=${`Move step ${i + 1} down`} ?disabled=${i === last}
        @click=${() => this.change((n) => { [n.steps[i + 1], n.steps[i]] = [n.steps[i], n.steps[i + 1]]; })}>↓</button>
      <button type="button" aria-label=${`Remove step ${i + 1}`} ?disabled=${last === 0}
        @click=${() => this.change((n) => { n.steps.splice(i, 1); })}>✕</button></li>`;
  }

  /** With an A/B test: a template per variant of the send (empty: the step's template). */
  variantTemplates(step, i, set) {
    const test = (this.choices?.experiments ?? []).find((e) => rawId(e.id) === this.draft.experiment_id);
    if (!test) return nothing;
    return test.variants.map(({ key }) => html`<label>${key} <input aria-label=${`Template for ${key} of step ${i + 1}`}
      .value=${step.variants?.[key] ?? ""} @change=${(e) => {
        const variants = { ...(step.variants ?? {}) };
        if (e.target.value) variants[key] = e.target.value; else delete variants[key];
        set("variants", Object.keys(variants).length ? variants : null);
      }}></label>`);
  }

  lifecycle() {
    const status = this.chosen.status;
    if (!viewer.can("Mutation.setJourneyStatus")) return nothing;
    const move = (to, label, cls = "") => html`<button type="button" class=${cls} ?disabled=${this.busy}
      @click=${() => this.setStatus(to)}>${label}</button>`;
    return html`
      ${status === "DRAFT" || status === "PAUSED" ? move("ACTIVE", status === "DRAFT" ? "Activate" : "Resume", "primary") : nothing}
      ${status === "ACTIVE" ? move("PAUSED", "Pause") : nothing}
      ${status !== "ARCHIVED" ? move("ARCHIVED", "Archive", "danger") : nothing}
      <button type="button" ?disabled=${this.busy} @click=${() => this.newVersion()}>New version</button>`;
  }

  async run(mutation, input, field) {
    this.busy = true;
    this.message = this.problem = "";
    try {
      const result = await client.mutate(mutation, { input });
      this.problem = mutationProblem(result, field);
      return this.problem ? null : result.data[field].journey;
    } finally {
      this.busy = false;
    }
  }

  async save() {
    const journey = this.chosen
      ? await this.run(UPDATE, { journeyId: this.chosen.id, name: this.name, definition: this.draft }, "updateJourney")
      : await this.run(CREATE, { name: this.name, definition: this.draft }, "createJourney");
    if (!journey) return;
    this.message = `Draft saved: ${this.name} v${journey.version}.`;
    await this.refreshChosen(journey.id);
  }

  async setStatus(status) {
    const journey = await this.run(STATUS, { journeyId: this.chosen.id, status }, "setJourneyStatus");
    if (!journey) return;
    this.message = `${this.chosen.name} v${journey.version} is ${words(journey.status)}.`;
    await this.refreshChosen(journey.id);
  }

  async newVersion() {
    const journey = await this.run(VERSION, { journeyId: this.chosen.id }, "newJourneyVersion");
    if (!journey) return;
    this.message = `Version ${journey.version} is a draft: edit it, then activate it.`;
    await this.refreshChosen(journey.id);
  }

  async refreshChosen(id) {
    await this.reload();
    const node = this.result?.data?.journeys?.edges?.find((e) => e.node.id === id)?.node;
    if (node) this.open(node, { keepMessage: true });
  }
}

/** The run log of one journey version: newest first, each run's steps with outcome and reason. */
class JourneyRuns extends QueryElement {
  static properties = { ...QueryElement.properties, journeyId: {} };
  query = RUNS;
  emptyText = "No run yet.";

  get rootPath() {
    return ["journey", "runs"];
  }

  variables() {
    return { id: this.journeyId };
  }

  updated(changed) {
    if (changed.has("journeyId") && changed.get("journeyId") !== undefined) this.reload();
  }

  isEmpty(data) {
    return !data?.journey?.runs?.edges?.length;
  }

  frame(body) {
    return html`<h3>Run log <button @click=${() => this.reload()}>Refresh</button></h3><div class="card">${body}</div>`;
  }

  renderData(data) {
    return html`<table aria-label="Journey runs">
      <thead><tr><th>Decided</th><th>Player</th><th>Status</th><th>Steps</th></tr></thead>
      <tbody>${data.journey.runs.edges.map(({ node }) => html`<tr data-run=${node.id}>
        <td>${when(node.decidedAt)}</td><td><code>${shortId(node.playerId)}</code></td>
        <td>${badge(node.status)} ${node.reason ? html`<small>${node.reason}</small>` : nothing}</td>
        <td>${node.steps.map((s) => html`<div>${s.step + 1}. ${words(s.kind)}: ${words(s.outcome)}
          ${s.reason ? html`<small>${s.reason}</small>` : nothing}</div>`)}</td></tr>`)}</tbody></table>`;
  }
}

customElements.define("cr-journeys", Journeys);
customElements.define("cr-journey-runs", JourneyRuns);
