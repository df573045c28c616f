/**
 * Segments: the CRM audiences of the brand. The list (name, kind, members now, rules), and the builder: a name,
 * dynamic or static, ALL or ANY of a list of conditions (a field, an operator and its operand), with the live
 * size and first players of the rules as they are edited (a debounced `segmentPreview`, before anything is
 * saved). A static segment's members are uploaded as player ids or e-mail addresses, one per line.
 */
import { html, nothing } from "lit";
import { QueryElement, client, runMutation, shortId, viewer, words } from "./ui.js";

const SEGMENT = `id name kind archived version size
  rules { match conditions { field op values flag value amount currency days } }`;
const LIST = `query Segments { segments(first: 100) { edges { node { ${SEGMENT} } } } }`;
const PREVIEW = `query Preview($rules: SegmentRulesInput!, $brand: String) {
  segmentPreview(rules: $rules, brand: $brand, limit: 10) { size players { id country createdAt } } }`;
const CREATE = `mutation($input: CreateSegmentInput!) { createSegment(input: $input) {
  segment { id name } errors { code field message } } }`;
const UPDATE = `mutation($input: UpdateSegmentInput!) { updateSegment(input: $input) {
  segment { id name version } errors { code field message } } }`;
const ARCHIVE = `mutation($input: ArchiveSegmentInput!) { archiveSegment(input: $input) {
  segment { id } errors { code field message } } }`;
const UPLOAD = `mutation($input: UploadSegmentMembersInput!) { uploadSegmentMembers(input: $input) {
  segment { id size } added already notFound badLines errors { code field message } } }`;

const LISTS = ["COUNTRY", "LANGUAGE", "CURRENCY", "JURISDICTION", "KYC_LEVEL", "KYC_STATUS", "TAG"];
const FLAGS = ["MARKETING_CONSENT"];
const MONEY = ["DEPOSIT_AMOUNT", "NGR"];
const WINDOWED = ["DEPOSIT_COUNT", "BONUSES_ISSUED", "BONUSES_COMPLETED", ...MONEY];
const NUMBERS = ["DAYS_SINCE_REGISTRATION", "DAYS_SINCE_LAST_DEPOSIT", "DAYS_SINCE_LAST_BET",
  "DAYS_SINCE_LAST_ACTIVITY", "DEPOSIT_COUNT", "BONUSES_ISSUED", "BONUSES_COMPLETED", "VIP_LEVEL", "RISK_SCORE"];
const COMPARISONS = { GTE: "≥", GT: ">", EQ: "=", NE: "≠", LT: "<", LTE: "≤" };
const DEBOUNCE_MS = 350;

function kindOf(field) {
  if (LISTS.includes(field)) return "list";
  if (FLAGS.includes(field)) return "flag";
  if (MONEY.includes(field)) return "money";
  return "number";
}

function blank(field = "COUNTRY") {
  const kind = kindOf(field);
  return { field, op: kind === "list" ? "IN" : kind === "flag" ? "IS" : "GTE", values: "", flag: true, value: "",
           amount: "", currency: "", days: "" };
}

/** A condition as the API takes it: only the operand its field's kind takes. */
function toInput(c) {
  const kind = kindOf(c.field);
  const out = { field: c.field, op: c.op };
  if (kind === "list") out.values = c.values.split(",").map((v) => v.trim()).filter(Boolean);
  if (kind === "flag") out.flag = c.flag;
  if (kind === "number") out.value = c.value === "" ? null : Number(c.value);
  if (kind === "money") Object.assign(out, { amount: c.amount, currency: c.currency });
  if (WINDOWED.includes(c.field) && c.days !== "") out.days = Number(c.days);
  return out;
}

function fromRule(c) {
  return { ...blank(c.field), op: c.op, values: (c.values ?? []).join(", "), flag: c.flag ?? true,
           value: c.value ?? "", amount: c.amount ?? "", currency: c.currency ?? "", days: c.days ?? "" };
}

/** A player's short reference: the first characters of the id inside the global id ("Player:<uuid>"). */
function playerRef(globalId) {
  try {
    return `${atob(globalId).split(":")[1].slice(0, 8)}…`;
  } catch {
    return shortId(globalId);
  }
}

function summary(rules) {
  if (!rules) return "uploaded list";
  if (!rules.conditions.length) return "every reachable player";
  const parts = rules.conditions.map((c) => {
    const operand = c.values?.join(", ") ?? (c.flag !== null ? (c.flag ? "yes" : "no") : c.amount
      ? `${c.amount} ${c.currency}` : c.value);
    const op = COMPARISONS[c.op] ?? words(c.op);
    return `${words(c.field)} ${op} ${operand}${c.days ? ` (${c.days} days)` : ""}`;
  });
  return parts.join(rules.match === "ALL" ? " and " : " or ");
}

class Segments extends QueryElement {
  static properties = { ...QueryElement.properties, draft: { state: true }, preview: { state: true },
                        previewProblem: { state: true }, message: { state: true }, problem: { state: true },
                        busy: { state: true } };
  query = LIST;
  emptyText = "No segment yet.";

  constructor() {
    super();
    this.startDraft();
  }

  get rootPath() {
    return ["segments"];
  }

  isEmpty(data) {
    return !data?.segments?.edges?.length;
  }

  startDraft(segment = null) {
    this.draft = segment
      ? { id: segment.id, name: segment.name, kind: segment.kind, brand: "", match: segment.rules?.match ?? "ALL",
          conditions: (segment.rules?.conditions ?? []).map(fromRule) }
      : { id: null, name: "", kind: "DYNAMIC", brand: "", match: "ALL", conditions: [blank()] };
    this.preview = null;
    this.previewProblem = "";
    if (segment) this.changed();
  }

  rulesInput() {
    return { match: this.draft.match, conditions: this.draft.conditions.map(toInput) };
  }

  /** Any edit: the live size follows, once the editing pauses. */
  changed() {
    this.draft = { ...this.draft };
    clearTimeout(this.timer);
    if (this.draft.kind !== "DYNAMIC") return;
    this.timer = setTimeout(() => this.refreshPreview(), DEBOUNCE_MS);
  }

  async refreshPreview() {
    const ticket = (this.previewTicket = (this.previewTicket ?? 0) + 1);
    const result = await client.query(PREVIEW, { rules: this.rulesInput(), brand: this.draft.brand || null });
    if (ticket !== this.previewTicket) return;
    const failure = result.refused ?? result.failures[0] ?? null;
    this.previewProblem = failure ? failure.message : "";
    this.preview = failure ? null : result.data?.segmentPreview ?? null;
  }

  render() {
    if (this.hidden) return nothing;
    return html`<h2>Segments</h2>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div class="card">${this.body()}</div>
      ${viewer.can("Mutation.createSegment") ? this.builder() : nothing}`;
  }

  renderData(data) {
    const change = viewer.can("Mutation.updateSegment");
    return html`<table aria-label="Segments">
      <thead><tr><th>Name</th><th>Kind</th><th class="num">Members</th><th>Rules</th><th></th></tr></thead>
      <tbody>${data.segments.edges.map(({ node }) => html`<tr data-segment=${node.id}>
        <td>${node.name}</td><td>${words(node.kind)}</td><td class="num">${node.size}</td>
        <td>${summary(node.rules)} <small>v${node.version}</small></td>
        <td>${change ? html`<button @click=${() => this.startDraft(node)}>Edit</button>
          <button class="danger" @click=${() => this.archive(node)}>Archive</button>` : nothing}
          ${node.kind === "STATIC" && viewer.can("Mutation.uploadSegmentMembers") ? html`<form class="row"
            aria-label=${`Upload members of ${node.name}`} @submit=${(e) => this.upload(e, node)}>
            <textarea name="members" rows="2" cols="40" aria-label="Player ids or e-mail addresses"
              placeholder="one player id or e-mail address per line"></textarea>
            <button type="submit" ?disabled=${this.busy}>Upload members</button></form>` : nothing}</td>
      </tr>`)}</tbody></table>`;
  }

  builder() {
    const d = this.draft;
    return html`<form class="card" aria-label="Segment builder" @submit=${(e) => this.save(e)}>
      <h3>${d.id ? `Edit ${d.name}` : "New segment"}</h3>
      <div class="row">
        <label>Name <input name="name" required maxlength="120" .value=${d.name}
          @input=${(e) => { d.name = e.target.value; this.draft = { ...d }; }}></label>
        <label>Kind <select name="kind" ?disabled=${Boolean(d.id)} .value=${d.kind}
          @change=${(e) => { d.kind = e.target.value; this.changed(); }}>
          <option value="DYNAMIC">dynamic (rules)</option><option value="STATIC">static (uploaded list)</option>
        </select></label>
        ${viewer.staff?.roles?.every((r) => r.brand) ? nothing : html`<label>Brand <input name="brand" placeholder="brand code" .value=${d.brand}
          @input=${(e) => { d.brand = e.target.value.trim(); this.changed(); }}></label>`}
      </div>
      ${d.kind === "DYNAMIC" ? this.conditions() : html`<p>Upload the members once the segment is saved.</p>`}
      <div class="row">
        <button class="primary" type="submit" ?disabled=${this.busy}>${d.id ? "Save changes" : "Create segment"}</button>
        ${d.id ? html`<button type="button" @click=${() => this.startDraft()}>New segment instead</button>` : nothing}
      </div>
    </form>`;
  }

  conditions() {
    const d = this.draft;
    return html`<div class="row"><label>Players matching <select aria-label="Match" .value=${d.match}
        @change=${(e) => { d.match = e.target.value; this.changed(); }}>
        <option value="ALL">all conditions</option><option value="ANY">any condition</option></select></label></div>
      <ol aria-label="Conditions">${d.conditions.map((c, i) => this.condition(c, i))}</ol>
      <button type="button" @click=${() => { d.conditions = [...d.conditions, blank()]; this.changed(); }}>
        Add condition</button>
      <p role="status" aria-label="Live size">${this.previewProblem
        ? html`<span class="error">${this.previewProblem}</span>`
        : this.preview ? html`<strong>${this.preview.size}</strong> players match now
          ${this.preview.players.length ? html`— first: ${this.preview.players.map((p) =>
            html`<code title=${p.id}>${playerRef(p.id)}</code> ${p.country ?? ""} `)}` : nothing}`
        : "Size: …"}</p>`;
  }

  condition(c, i) {
    const d = this.draft;
    const set = (name) => (e) => {
      c[name] = e.target.type === "checkbox" ? e.target.checked : e.target.value;
      if (name === "field") Object.assign(c, blank(c.field));
      this.changed();
    };
    const kind = kindOf(c.field);
    const ops = kind === "list" ? ["IN", "NOT_IN"] : kind === "flag" ? ["IS"] : Object.keys(COMPARISONS);
    return html`<li class="row" aria-label=${`Condition ${i + 1}`}>
      <select aria-label="Field" .value=${c.field} @change=${set("field")}>
        ${[...LISTS, ...FLAGS, ...NUMBERS, ...MONEY].map((f) => html`<option value=${f}
          ?selected=${f === c.field}>${words(f)}</option>`)}</select>
      <select aria-label="Operator" .value=${c.op} @change=${set("op")}>
        ${ops.map((o) => html`<option value=${o} ?selected=${o === c.op}>${COMPARISONS[o] ?? words(o)}</option>`)}
      </select>
      ${kind === "list" ? html`<input aria-label="Values" placeholder="MT, SE" .value=${c.values}
          @input=${set("values")}>` : nothing}
      ${kind === "flag" ? html`<label><input type="checkbox" aria-label="Yes" .checked=${c.flag}
          @change=${set("flag")}> yes</label>` : nothing}
      ${kind === "number" ? html`<input type="number" min="0" aria-label="Value" .value=${String(c.value)}
          @input=${set("value")}>` : nothing}
      ${kind === "money" ? html`<input aria-label="Amount" placeholder="100.00" .value=${c.amount}
          @input=${set("amount")}><input aria-label="Currency" size="4" placeholder="EUR" .value=${c.currency}
          @input=${set("currency")}>` : nothing}
      ${WINDOWED.includes(c.field) ? html`<label>in the last <input type="number" min="1" aria-label="Days"
          placeholder="ever" .value=${String(c.days)} @input=${set("days")}> days</label>` : nothing}
      <button type="button" aria-label="Remove condition" @click=${() => {
        d.conditions = d.conditions.filter((_, k) => k !== i); this.changed(); }}>✕</button>
    </li>`;
  }

  run(mutation, input, field) {
    return runMutation(this, mutation, input, field);
  }

  async save(event) {
    event.preventDefault();
    const d = this.draft;
    const rules = d.kind === "DYNAMIC" ? this.rulesInput() : null;
    const done = d.id
      ? await this.run(UPDATE, { segmentId: d.id, name: d.name, rules }, "updateSegment")
      : await this.run(CREATE, { name: d.name, kind: d.kind, rules, brand: d.brand || null }, "createSegment");
    if (!done) return;
    this.message = `Segment ${done.segment.name} saved.`;
    this.startDraft();
    await this.reload();
  }

  async archive(segment) {
    const done = await this.run(ARCHIVE, { segmentId: segment.id }, "archiveSegment");
    if (done) this.message = `Segment ${segment.name} archived.`;
    await this.reload();
  }

  async upload(event, segment) {
    event.preventDefault();
    const form = event.target;
    const done = await this.run(UPLOAD, { segmentId: segment.id, members: form.members.value },
      "uploadSegmentMembers");
    if (!done) return;
    const missing = done.notFound ? `, ${done.notFound} not found (lines ${done.badLines.join(", ")})` : "";
    this.message = `${done.added} added to ${segment.name}, ${done.already} already there${missing}.`;
    form.reset();
    await this.reload();
  }
}

customElements.define("cr-segments", Segments);
