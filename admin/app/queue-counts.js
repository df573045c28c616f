/**
 * Live queue lengths on the compliance screens: the `complianceQueues` subscription (graphql-transport-ws)
 * pushes the counts of the viewer's brand scope when a KYC or AML event moves a queue (at most once a
 * second, every 30 s anyway). Each screen names the counts it shows; only those the viewer's role may
 * read are asked for (the policy decides per count), so a role sees no count of a queue it does not work.
 */
import { LitElement, css, html, nothing } from "lit";
import { describeError } from "../graphql-client.js";
import { client, shared, viewer } from "./ui.js";

export const LABELS = {
  kycLevelReviews: "KYC levels to review",
  kycDocuments: "Documents to review",
  screeningMatches: "Screening matches",
  amlAlerts: "Open monitoring alerts",
  amlCasesOpen: "Cases open",
  amlCasesInvestigating: "Investigating",
  amlCasesEscalated: "Escalated",
  amlCasesOverdue: "Overdue",
};

// One document; each count is asked for only when the screen shows it and the viewer's role may read it.
const FEED = `subscription ComplianceQueues($kycLevelReviews: Boolean!, $kycDocuments: Boolean!,
  $screeningMatches: Boolean!, $amlAlerts: Boolean!, $amlCasesOpen: Boolean!, $amlCasesInvestigating: Boolean!,
  $amlCasesEscalated: Boolean!, $amlCasesOverdue: Boolean!) { complianceQueues { at trigger
  kycLevelReviews @include(if: $kycLevelReviews) kycDocuments @include(if: $kycDocuments)
  screeningMatches @include(if: $screeningMatches) amlAlerts @include(if: $amlAlerts)
  amlCasesOpen @include(if: $amlCasesOpen) amlCasesInvestigating @include(if: $amlCasesInvestigating)
  amlCasesEscalated @include(if: $amlCasesEscalated) amlCasesOverdue @include(if: $amlCasesOverdue) } }`;

class QueueCounts extends LitElement {
  static properties = { counts: {}, figures: { state: true }, problem: { state: true } };
  static styles = [shared, css`
    :host { display: block; margin-bottom: .75rem; }
    .strip { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; }
    .count { border: 1px solid var(--line, #ddd); border-radius: .4rem; padding: .25rem .6rem; font-size: .85rem; }
    .count b { font-variant-numeric: tabular-nums; font-size: 1.05rem; margin-right: .3rem; }
    .count.late b { color: var(--bad, #b00); }
  `];

  constructor() {
    super();
    this.counts = "";
    this.figures = null;
    this.problem = "";
  }

  get readable() {
    return this.counts.split(/\s+/).filter((name) => name && viewer.can(`ComplianceQueues.${name}`));
  }

  connectedCallback() {
    super.connectedCallback();
    const names = this.readable;
    if (!names.length || !viewer.can("Subscription.complianceQueues")) return;
    const wanted = Object.fromEntries(Object.keys(LABELS).map((name) => [name, names.includes(name)]));
    this.stop = client.subscribe(FEED, wanted, {
      next: (result) => {
        const figures = result.data?.complianceQueues;
        if (figures) {
          this.figures = figures;
          this.problem = "";
        } else {
          this.problem = describeError(result.errors[0]);
        }
      },
      error: (error) => { this.problem = describeError(error); },
      complete: () => {},
    });
  }

  disconnectedCallback() {
    super.disconnectedCallback();
    this.stop?.();
  }

  render() {
    if (this.problem) return html`<p class="error" role="alert">${this.problem}</p>`;
    if (!this.figures) return nothing;
    return html`<div class="strip" role="group" aria-label="Queue counts">
      ${this.readable.map((name) => html`<span class="count ${name === "amlCasesOverdue" && this.figures[name] ? "late" : ""}"
        data-count=${name}><b>${this.figures[name]}</b>${LABELS[name]}</span>`)}
    </div>`;
  }
}

customElements.define("cr-queue-counts", QueueCounts);
