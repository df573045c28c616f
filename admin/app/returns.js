/**
 * Regulatory and tax returns (finance): the returns filed for the brand picked in the header, each
 * downloadable as the exact bytes filed (with their SHA-256), and a form to file the return of a
 * finished month or quarter. Filing the same figures again gives back the revision already filed;
 * changed figures are refused unless filed as an amendment (the next revision). The server's refusals
 * (an unknown period, a brand not licensed for the return's jurisdiction) are shown at the form.
 */
import { html, nothing } from "lit";
import { describeError } from "../graphql-client.js";
import { ReportSection } from "./report-common.js";
import { client, download, mutationProblem, viewer, when } from "./ui.js";

// The templates of services/reports/returns.toml.
const TEMPLATES = [
  ["uk-ggy-quarterly", "UK: remote casino GGY by product (quarterly)", "2026-Q3"],
  ["se-gaming-tax-monthly", "Sweden: gaming tax (monthly)", "2026-11"],
  ["dk-gaming-tax-monthly", "Denmark: gaming tax (monthly)", "2026-11"],
];

const FILE = `mutation FileReturn($input: FileRegulatoryReturnInput!) {
  fileRegulatoryReturn(input: $input) {
    regulatoryReturn { id template periodStart revision sha256 }
    errors { code field message } } }`;

class RegulatoryReturns extends ReportSection {
  static properties = { ...ReportSection.properties, template: { state: true }, message: { state: true },
                        problem: { state: true }, problemField: { state: true }, busy: { state: true } };
  heading = "Regulatory returns";
  emptyText = "No return has been filed for this brand yet.";
  query = `query RegulatoryReturns { regulatoryReturns {
    id template jurisdiction periodStart periodEnd revision sha256 generatedAt
    file { filename mediaType rows contentBase64 } } }`;

  constructor() {
    super();
    this.template = TEMPLATES[0][0];
    this.problemField = null;
  }

  get rootPath() {
    return ["regulatoryReturns"];
  }

  isEmpty(data) {
    return !data?.regulatoryReturns?.length;
  }

  frame(body) {
    return super.frame(html`
      ${viewer.can("Mutation.fileRegulatoryReturn") ? this.fileForm() : nothing}
      ${body}`);
  }

  fileForm() {
    const placeholder = TEMPLATES.find(([code]) => code === this.template)?.[2] ?? "";
    const invalid = (field) => (this.problemField === field ? "true" : "false");
    return html`<form class="row" style="margin-bottom:1rem" aria-label="File a return" @submit=${this.file}>
      <label>Return <select name="template" aria-invalid=${invalid("template")}
          @change=${(e) => { this.template = e.target.value; }}>
        ${TEMPLATES.map(([code, title]) => html`<option value=${code} ?selected=${code === this.template}>${title}</option>`)}
      </select></label>
      <label>Period <input name="period" required placeholder=${placeholder} size="10" autocomplete="off"
        aria-invalid=${invalid("period")} aria-describedby="period-help"></label>
      <label style="flex-direction:row;display:flex;align-items:center;gap:.35rem;color:var(--ink)">
        <input type="checkbox" name="amend" aria-invalid=${invalid("amend")}> Amend (file changed figures as the next revision)</label>
      <button class="primary" type="submit" ?disabled=${this.busy}>File return</button>
      <span id="period-help" class="muted">A month (2026-11) or a quarter (2026-Q3) that has ended.</span>
    </form>
    ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
    ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}`;
  }

  async file(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    const input = { template: String(form.get("template")), period: String(form.get("period") ?? "").trim(),
                    amend: form.get("amend") === "on" };
    const before = new Set((this.result?.data?.regulatoryReturns ?? []).map((r) => r.id));
    this.busy = true;
    this.message = "";
    this.problem = "";
    this.problemField = null;
    try {
      const result = await client.mutate(FILE, { input });
      this.problem = mutationProblem(result, "fileRegulatoryReturn");
      this.problemField = result.data?.fileRegulatoryReturn?.errors?.[0]?.field ?? null;
      const filed = result.data?.fileRegulatoryReturn?.regulatoryReturn;
      if (!this.problem && filed) {
        this.message = before.has(filed.id)
          ? `${input.period} was already filed with these figures: revision ${filed.revision} stands.`
          : `Filed ${filed.template} for ${input.period} as revision ${filed.revision}.`;
        await this.reload();
      }
    } catch (error) {
      this.problem = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  renderData(data) {
    return html`<table>
      <thead><tr><th scope="col">Return</th><th scope="col">Jurisdiction</th><th scope="col">Period</th>
        <th scope="col" class="num">Revision</th><th scope="col">Filed</th><th scope="col">SHA-256</th><th scope="col">File</th></tr></thead>
      <tbody>${data.regulatoryReturns.map((r) => html`<tr data-return=${r.id}>
        <th scope="row">${r.template}</th><td>${r.jurisdiction}</td><td>${r.periodStart} – ${r.periodEnd}</td>
        <td class="num">${r.revision}</td><td>${when(r.generatedAt)}</td>
        <td><code title=${r.sha256}>${r.sha256.slice(0, 12)}…</code></td>
        <td><button aria-label="Download ${r.template} ${r.periodStart} revision ${r.revision}"
          @click=${() => download(r.file)}>CSV</button></td>
      </tr>`)}</tbody></table>`;
  }
}

customElements.define("cr-regulatory-returns", RegulatoryReturns);
