/**
 * The AML case screen: the queue (state and overdue filters, deadlines in view) and a case's detail —
 * summary, restriction, assignee, notes, evidence links and history — with the steps the viewer's role
 * may take: take the case, note, link evidence, escalate, restrict, and (the MLRO) send back, decide,
 * lift, and export the goAML SAR/STR draft. The server decides who may do what; refusals are shown.
 */
import { html, nothing } from "lit";
import { QueryElement, badge, client, mutationProblem, playerName, viewer, when, words } from "./ui.js";

const FIELDS = `id caseType source summary state outcome dueAt overdue awaitingSecondMlro restricted createdAt
  player { id email firstName lastName } assignee { id displayName }`;
const QUEUE = `query AmlCaseQueue($filter: AmlCaseFilter) { amlCases(filter: $filter, first: 50) { edges { node { ${FIELDS} } } } }`;
const DETAIL = `query AmlCaseDetail($id: ID!) { amlCase(id: $id) { ${FIELDS}
  notes { id body createdAt } evidence { id kind refId note createdAt } history { action at details } } }`;
const PAYLOAD = `case { ${FIELDS} } errors { code field message }`;

class AmlCases extends QueryElement {
  static properties = { ...QueryElement.properties, state: { state: true }, overdue: { state: true } };
  query = QUEUE;
  emptyText = "No case matches. The queue is clear.";

  constructor() {
    super();
    this.state = "OPEN,INVESTIGATING,ESCALATED";
    this.overdue = false;
  }

  get rootPath() {
    return ["amlCases"];
  }

  variables() {
    return { filter: { states: this.state.split(","), ...(this.overdue ? { overdue: true } : {}) } };
  }

  isEmpty(data) {
    return !data?.amlCases?.edges?.length;
  }

  frame(body) {
    return html`<h2>AML cases</h2>
      <cr-queue-counts counts="amlCasesOpen amlCasesInvestigating amlCasesEscalated amlCasesOverdue amlAlerts"></cr-queue-counts>
      <div class="row">
        <label>State <select aria-label="State" @change=${(e) => { this.state = e.target.value; this.reload(); }}>
          <option value="OPEN,INVESTIGATING,ESCALATED">In progress</option>
          <option value="ESCALATED">Escalated (MLRO)</option>
          <option value="CLOSED">Closed</option>
        </select></label>
        <label><input type="checkbox" @change=${(e) => { this.overdue = e.target.checked; this.reload(); }}>
          Overdue only</label>
      </div>
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    return html`<table>
      <thead><tr><th>Opened</th><th>Player</th><th>Type</th><th>State</th><th>Due</th><th>Assignee</th></tr></thead>
      <tbody>${data.amlCases.edges.map(({ node }) => html`<tr data-case=${node.id}>
        <td><a href="#/aml-cases/${encodeURIComponent(node.id)}">${when(node.createdAt)}</a></td>
        <td>${playerName(node.player)}</td><td>${words(node.caseType)}</td>
        <td>${badge(node.outcome ? `closed: ${node.outcome}` : node.state)}
          ${node.restricted ? badge("restricted") : nothing}</td>
        <td>${when(node.dueAt)} ${node.overdue ? html`<span class="badge bad">overdue</span>` : nothing}</td>
        <td>${node.assignee?.displayName ?? "—"}</td>
      </tr>`)}</tbody></table>`;
  }
}

class AmlCase extends QueryElement {
  static properties = { ...QueryElement.properties, caseId: {}, message: { state: true }, problem: { state: true },
                        busy: { state: true } };
  query = DETAIL;

  get rootPath() {
    return ["amlCase"];
  }

  variables() {
    return { id: this.caseId };
  }

  isEmpty(data) {
    return !data?.amlCase;
  }

  frame(body) {
    return html`<p><a href="#/aml-cases">← All cases</a></p>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${body}`;
  }

  value(name) {
    return this.renderRoot.querySelector(`[name="${name}"]`)?.value ?? "";
  }

  async act(mutation, field, input, done) {
    this.busy = true;
    this.message = "";
    try {
      const result = await client.mutate(mutation, { input: { caseId: this.caseId, ...input } });
      this.problem = mutationProblem(result, field);
      if (!this.problem) this.message = done(result.data[field]);
      await this.reload();
      return result.data?.[field];
    } finally {
      this.busy = false;
    }
  }

  take() {
    return this.act(`mutation($input: AssignAmlCaseInput!) { assignAmlCase(input: $input) { ${PAYLOAD} } }`,
      "assignAmlCase", { assigneeId: viewer.staff.id }, () => "The case is yours.");
  }

  move(state) {
    return this.act(`mutation($input: ChangeAmlCaseStateInput!) { changeAmlCaseState(input: $input) { ${PAYLOAD} } }`,
      "changeAmlCaseState", { state }, (answer) => `The case is ${words(answer.case.state)}.`);
  }

  note() {
    return this.act(`mutation($input: AddAmlCaseNoteInput!) { addAmlCaseNote(input: $input) {
      note { id } errors { code field message } } }`, "addAmlCaseNote", { body: this.value("note") }, () => "Note added.");
  }

  evidence() {
    return this.act(`mutation($input: AddAmlCaseEvidenceInput!) { addAmlCaseEvidence(input: $input) {
      evidence { id } errors { code field message } } }`, "addAmlCaseEvidence",
    { kind: this.value("kind"), refId: this.value("ref"), note: this.value("evidence-note") || null }, () => "Evidence linked.");
  }

  restrict(restricted) {
    return this.act(`mutation($input: SetAmlRestrictionInput!) { setAmlRestriction(input: $input) { ${PAYLOAD} } }`,
      "setAmlRestriction", { restricted, reason: this.value("restrict-reason") },
      () => (restricted ? "The account is restricted." : "The restriction is lifted."));
  }

  close() {
    return this.act(`mutation($input: CloseAmlCaseInput!) { closeAmlCase(input: $input) { ${PAYLOAD} } }`,
      "closeAmlCase", { outcome: this.value("outcome"), reason: this.value("close-reason") },
      (answer) => (answer.case.awaitingSecondMlro
        ? "Decision recorded: a second MLRO must confirm it."
        : `Closed: ${words(answer.case.outcome)}.`));
  }

  async exportSar() {
    const answer = await this.act(`mutation($input: ExportSarInput!) { exportSar(input: $input) {
      sar { reportCode fileName xml } errors { code field message } } }`, "exportSar", {},
    (result) => `${result.sar.reportCode} draft exported (${result.sar.fileName}), valid against the FIU's schema.`);
    const sar = answer?.sar;
    if (!sar) return;
    const url = URL.createObjectURL(new Blob([sar.xml], { type: "application/xml" }));
    const link = Object.assign(document.createElement("a"), { href: url, download: sar.fileName });
    document.body.append(link);
    link.click();
    link.remove();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
  }

  renderData(data) {
    const c = data.amlCase;
    const open = c.state !== "CLOSED";
    const can = (coordinate) => viewer.can(coordinate);
    return html`<h2>AML case: ${playerName(c.player)}</h2>
      <div class="card">
        <p><a href="#/players/${encodeURIComponent(c.player?.id ?? "")}">${playerName(c.player)}</a>
          · ${words(c.caseType)} · from ${words(c.source)}</p>
        <p>${badge(c.outcome ? `closed: ${c.outcome}` : c.state)} ${c.restricted ? badge("restricted") : nothing}
          ${c.overdue ? html`<span class="badge bad">overdue</span>` : nothing}
          ${c.awaitingSecondMlro ? badge("awaiting a second MLRO") : nothing}</p>
        <p>Due ${when(c.dueAt)} · assignee ${c.assignee?.displayName ?? "nobody"}</p>
        <p data-summary>${c.summary}</p>
        ${open ? html`<div class="row">
          ${can("Mutation.assignAmlCase") ? html`<button ?disabled=${this.busy} @click=${() => this.take()}>Take the case</button>` : nothing}
          ${can("Mutation.changeAmlCaseState") && c.state !== "ESCALATED" ? html`
            <button ?disabled=${this.busy} @click=${() => this.move("ESCALATED")}>Escalate to the MLRO</button>` : nothing}
          ${can("Mutation.changeAmlCaseState") && c.state === "ESCALATED" ? html`
            <button ?disabled=${this.busy} @click=${() => this.move("INVESTIGATING")}>Send back</button>` : nothing}
        </div>` : nothing}
      </div>
      ${can("Mutation.setAmlRestriction") ? html`<div class="card"><h3>Restriction</h3><div class="row">
        <input name="restrict-reason" aria-label="Restriction reason" placeholder="Reason">
        ${c.restricted
          ? html`<button class="danger" ?disabled=${this.busy} @click=${() => this.restrict(false)}>Lift restriction</button>`
          : html`<button class="danger" ?disabled=${this.busy || !open} @click=${() => this.restrict(true)}>Restrict account</button>`}
      </div></div>` : nothing}
      ${open && can("Mutation.closeAmlCase") ? html`<div class="card"><h3>Decision</h3><div class="row">
        <select name="outcome" aria-label="Outcome">
          ${["NO_ACTION", "SAR_FILED", "ACCOUNT_CLOSED", "OTHER"].map((o) => html`<option value=${o}>${words(o)}</option>`)}
        </select>
        <input name="close-reason" aria-label="Decision reason" placeholder="Reason">
        <button class="primary" ?disabled=${this.busy} @click=${() => this.close()}>Close case</button>
      </div></div>` : nothing}
      ${can("Mutation.exportSar") && (c.state === "ESCALATED" || c.outcome === "SAR_FILED") ? html`
        <p><button class="primary" ?disabled=${this.busy} @click=${() => this.exportSar()}>Export SAR (goAML XML)</button></p>` : nothing}
      <div class="card"><h3>Notes</h3>
        <ul>${c.notes.map((n) => html`<li>${when(n.createdAt)}: ${n.body}</li>`)}</ul>
        ${can("Mutation.addAmlCaseNote") ? html`<div class="row">
          <textarea name="note" aria-label="New note" placeholder="Note"></textarea>
          <button ?disabled=${this.busy} @click=${() => this.note()}>Add note</button></div>` : nothing}
      </div>
      <div class="card"><h3>Evidence</h3>
        <ul>${c.evidence.map((e) => html`<li>${words(e.kind)} ${e.refId}${e.note ? `: ${e.note}` : ""}</li>`)}</ul>
        ${open && can("Mutation.addAmlCaseEvidence") ? html`<div class="row">
          <select name="kind" aria-label="Evidence kind">
            ${["ALERT", "PAYMENT", "LEDGER_TRANSACTION", "DOCUMENT", "OTHER"].map((k) => html`<option value=${k}>${words(k)}</option>`)}
          </select>
          <input name="ref" aria-label="Evidence id" placeholder="Id">
          <input name="evidence-note" aria-label="Evidence note" placeholder="Note">
          <button ?disabled=${this.busy} @click=${() => this.evidence()}>Link evidence</button></div>` : nothing}
      </div>
      <div class="card"><h3>History</h3>
        <ol>${c.history.map((h) => html`<li>${when(h.at)}: ${words(h.action)}</li>`)}</ol></div>`;
  }
}

customElements.define("cr-aml-cases", AmlCases);
customElements.define("cr-aml-case", AmlCase);

