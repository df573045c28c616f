/**
 * Affiliate partners (docs/affiliates.md): the list (search, status), the form that creates one
 * (`createAffiliate`), and a partner's page: its details and payout details, suspend / reactivate / close with
 * a reason, its tracking links (make one on a brand, copy its path, archive) and its portal users (create with a
 * password, disable). Plans, deals and runs have their own screens. On the player 360, the partner who brought
 * the player (`Player.affiliate`), for the roles that may read it.
 */
import { html, nothing } from "lit";
import { PlayerSection } from "./player.js";
import { QueryElement, badge, client, mutationProblem, viewer, when, words } from "./ui.js";

const LIST = `query Affiliates($search: String, $status: [AffiliateStatus!], $first: Int) {
  affiliates(search: $search, status: $status, first: $first) { edges { node {
    id code company status payoutCurrency createdAt brands { code } } } } }`;
const BRANDS = `{ brands { id code name } }`;
const CREATE = `mutation CreateAffiliate($input: CreateAffiliateInput!) { createAffiliate(input: $input) {
  affiliate { id code } errors { code field message } } }`;
const DETAIL = `query Affiliate($id: ID!) { affiliate(id: $id) {
  id code company status contactName contactEmail contactPhone payoutCurrency payoutMethod createdAt version
  payoutDetails { name value } parent { id code } brands { id code name }
  links { id code path tag landingPath archivedAt createdAt brand { code } }
  portalUsers { id email displayName lastLoginAt disabledAt createdAt } } }`;
const STATUS = `mutation SetAffiliateStatus($input: SetAffiliateStatusInput!) { setAffiliateStatus(input: $input) {
  affiliate { id status } errors { code field message } } }`;
const ADD_LINK = `mutation AddAffiliateLink($input: AddAffiliateLinkInput!) { addAffiliateLink(input: $input) {
  link { id code path } errors { code field message } } }`;
const ARCHIVE_LINK = `mutation ArchiveAffiliateLink($input: ArchiveAffiliateLinkInput!) {
  archiveAffiliateLink(input: $input) { link { id archivedAt } errors { code field message } } }`;
const ADD_USER = `mutation CreateAffiliatePortalUser($input: CreateAffiliatePortalUserInput!) {
  createAffiliatePortalUser(input: $input) { portalUser { id email } errors { code field message } } }`;
const DISABLE_USER = `mutation DisableAffiliatePortalUser($input: DisableAffiliatePortalUserInput!) {
  disableAffiliatePortalUser(input: $input) { portalUser { id disabledAt } errors { code field message } } }`;

const STATUSES = ["ACTIVE", "SUSPENDED", "CLOSED"];
const text = (form, name) => String(form.get(name) ?? "").trim();

class Affiliates extends QueryElement {
  static properties = { ...QueryElement.properties, creating: { state: true }, problem: { state: true },
                        message: { state: true }, busy: { state: true }, brands: { state: true } };
  query = LIST;
  emptyText = "No partner matches.";
  search = "";
  status = "";

  get rootPath() {
    return ["affiliates"];
  }

  variables() {
    return { search: this.search || null, status: this.status ? [this.status] : null, first: 50 };
  }

  isEmpty(data) {
    return !data?.affiliates?.edges?.length;
  }

  frame(body) {
    const create = viewer.can("Mutation.createAffiliate");
    return html`<h2>Partners</h2>
      <div class="row" role="search">
        <label>Search <input aria-label="Search partners" placeholder="code or company"
          @change=${(e) => { this.search = e.target.value.trim(); this.reload(); }}></label>
        <label>Status <select aria-label="Status" @change=${(e) => { this.status = e.target.value; this.reload(); }}>
          <option value="">any</option>${STATUSES.map((s) => html`<option value=${s}>${words(s)}</option>`)}</select></label>
        ${create ? html`<button class="primary" aria-expanded=${Boolean(this.creating)}
          @click=${() => this.toggleForm()}>New partner</button>` : nothing}
      </div>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.creating ? this.form() : nothing}
      <div class="card">${body}</div>`;
  }

  renderData(data) {
    return html`<table aria-label="Partners">
      <thead><tr><th>Code</th><th>Company</th><th>Status</th><th>Brands</th><th>Payout</th><th>Since</th></tr></thead>
      <tbody>${data.affiliates.edges.map(({ node }) => html`<tr data-affiliate=${node.code}>
        <td><a href="#/affiliates/${encodeURIComponent(node.id)}">${node.code}</a></td><td>${node.company}</td>
        <td>${badge(node.status)}</td><td>${node.brands.map((b) => b.code).join(", ")}</td>
        <td>${node.payoutCurrency}</td><td>${when(node.createdAt)}</td></tr>`)}</tbody></table>`;
  }

  async toggleForm() {
    this.creating = !this.creating;
    if (this.creating && !this.brands) this.brands = (await client.query(BRANDS)).data?.brands ?? [];
  }

  form() {
    return html`<form class="card" aria-label="New partner" style="margin-bottom:1rem"
        @submit=${(e) => { e.preventDefault(); this.create(new FormData(e.target)); }}>
      <div class="row">
        <label>Code <input name="code" required maxlength="40" pattern="[a-z0-9][a-z0-9-]{1,39}"></label>
        <label>Company <input name="company" required maxlength="200"></label>
        <label>Contact <input name="contactName" maxlength="120"></label>
        <label>Email <input name="contactEmail" type="email" required></label>
        <label>Phone <input name="contactPhone" maxlength="32"></label>
      </div>
      <div class="row">
        <label>Payout currency <input name="payoutCurrency" value="EUR" size="5" required></label>
        <label>Payout method <input name="payoutMethod" placeholder="bank_transfer"></label>
        <label>IBAN / account <input name="account"></label>
        <fieldset><legend>Brands</legend>${(this.brands ?? []).map((b) => html`<label>
          <input type="checkbox" name="brand" value=${b.id}> ${b.name}</label>`)}</fieldset>
        <button class="primary" type="submit" ?disabled=${this.busy}>Create partner</button>
      </div>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
    </form>`;
  }

  async create(form) {
    const account = text(form, "account");
    const input = { code: text(form, "code"), partner: {
      company: text(form, "company"), contactName: text(form, "contactName") || null,
      contactEmail: text(form, "contactEmail"), contactPhone: text(form, "contactPhone") || null,
      payoutCurrency: text(form, "payoutCurrency").toUpperCase(), payoutMethod: text(form, "payoutMethod") || null,
      payoutDetails: account ? [{ name: "account", value: account }] : [], brandIds: form.getAll("brand"),
    } };
    this.busy = true;
    this.problem = "";
    try {
      const result = await client.mutate(CREATE, { input });
      this.problem = mutationProblem(result, "createAffiliate");
      if (!this.problem) {
        this.creating = false;
        this.message = `Partner ${result.data.createAffiliate.affiliate.code} created.`;
        await this.reload();
      }
    } finally {
      this.busy = false;
    }
  }
}

customElements.define("cr-affiliates", Affiliates);

class AffiliatePage extends QueryElement {
  static properties = { ...QueryElement.properties, affiliateId: {}, problem: { state: true },
                        message: { state: true }, busy: { state: true } };
  query = DETAIL;

  get rootPath() {
    return ["affiliate"];
  }

  variables() {
    return { id: this.affiliateId };
  }

  isEmpty(data) {
    return !data?.affiliate;
  }

  renderData(data) {
    const a = data.affiliate;
    return html`<p><a href="#/affiliates">← Partners</a></p>
      <h2>${a.company} <code>${a.code}</code> ${badge(a.status)}</h2>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      <div style="display:grid;grid-template-columns:minmax(280px,1fr) minmax(380px,1.6fr);gap:1rem;align-items:start">
        <div style="display:grid;gap:1rem">
          <section class="card" aria-label="Partner"><dl>
            <dt>Contact</dt><dd>${a.contactName ?? "—"} · ${a.contactEmail}${a.contactPhone ? ` · ${a.contactPhone}` : ""}</dd>
            <dt>Brands</dt><dd>${a.brands.map((b) => b.name).join(", ")}</dd>
            <dt>Payout</dt><dd>${a.payoutCurrency}${a.payoutMethod ? ` by ${words(a.payoutMethod)}` : ""}</dd>
            ${a.payoutDetails.map((d) => html`<dt>${d.name}</dt><dd><code>${d.value}</code></dd>`)}
            <dt>Brought in by</dt><dd>${a.parent ? html`<a href="#/affiliates/${encodeURIComponent(a.parent.id)}">${a.parent.code}</a>` : "—"}</dd>
            <dt>Since</dt><dd>${when(a.createdAt)}</dd>
          </dl></section>
          ${this.statusCard(a)}
          ${this.usersCard(a)}
        </div>
        ${this.linksCard(a)}
      </div>`;
  }

  statusCard(a) {
    if (!viewer.can("Mutation.setAffiliateStatus") || a.status === "CLOSED") return nothing;
    const next = a.status === "ACTIVE" ? ["SUSPENDED", "CLOSED"] : ["ACTIVE", "CLOSED"];
    return html`<section class="card" aria-label="Status"><div class="row">
      <input aria-label="Reason" placeholder="Why (audited)" data-status-reason>
      ${next.map((s) => html`<button class=${s === "CLOSED" ? "danger" : ""} ?disabled=${this.busy}
        @click=${() => this.setStatus(s)}>${{ ACTIVE: "Reactivate", SUSPENDED: "Suspend", CLOSED: "Close" }[s]}</button>`)}
    </div></section>`;
  }

  linksCard(a) {
    const add = viewer.can("Mutation.addAffiliateLink") && a.status === "ACTIVE";
    const archive = viewer.can("Mutation.archiveAffiliateLink");
    return html`<section class="card" aria-label="Links"><h3>Tracking links</h3>
      ${a.links.length ? html`<table><thead><tr><th>Path</th><th>Brand</th><th>Tag</th><th>Lands on</th><th>State</th>
        <th></th></tr></thead><tbody>${a.links.map((l) => html`<tr data-link=${l.tag}>
          <td><code>${l.path}</code></td><td>${l.brand?.code ?? "—"}</td><td>${l.tag}</td><td><code>${l.landingPath}</code></td>
          <td>${l.archivedAt ? html`<span class="badge bad">archived</span>` : html`<span class="badge good">live</span>`}</td>
          <td>${archive && !l.archivedAt ? html`<button ?disabled=${this.busy}
            @click=${() => this.run(ARCHIVE_LINK, "archiveAffiliateLink", { linkId: l.id }, "Link archived.")}>Archive</button>`
            : nothing}</td></tr>`)}</tbody></table>` : html`<p class="state">No link yet.</p>`}
      ${add ? html`<form class="row" aria-label="New link" style="margin-top:.5rem" @submit=${(e) => {
          e.preventDefault();
          const f = new FormData(e.target);
          this.run(ADD_LINK, "addAffiliateLink", { affiliateId: a.id, brandId: text(f, "brand"), tag: text(f, "tag"),
                                                    landingPath: text(f, "landingPath") || "/" }, "Link created.");
        }}>
        <label>Brand <select name="brand">${a.brands.map((b) => html`<option value=${b.id}>${b.code}</option>`)}</select></label>
        <label>Tag <input name="tag" required maxlength="64"></label>
        <label>Landing path <input name="landingPath" value="/" maxlength="500"></label>
        <button class="primary" type="submit" ?disabled=${this.busy}>Make link</button></form>` : nothing}
    </section>`;
  }

  usersCard(a) {
    const add = viewer.can("Mutation.createAffiliatePortalUser") && a.status !== "CLOSED";
    const disable = viewer.can("Mutation.disableAffiliatePortalUser");
    return html`<section class="card" aria-label="Portal users"><h3>Portal users</h3>
      ${a.portalUsers.length ? html`<table><tbody>${a.portalUsers.map((u) => html`<tr data-user=${u.email}>
        <td>${u.email}</td><td>${u.displayName ?? ""}</td>
        <td>${u.disabledAt ? html`<span class="badge bad">disabled</span>` : html`<span class="badge good">active</span>`}</td>
        <td>${disable && !u.disabledAt ? html`<button ?disabled=${this.busy} @click=${() => this.run(DISABLE_USER,
          "disableAffiliatePortalUser", { userId: u.id, reason: "disabled in the back office" }, "Portal user disabled.")}
          >Disable</button>` : nothing}</td></tr>`)}</tbody></table>` : html`<p class="state">Nobody signs in yet.</p>`}
      ${add ? html`<form class="row" aria-label="New portal user" @submit=${(e) => {
          e.preventDefault();
          const f = new FormData(e.target);
          this.run(ADD_USER, "createAffiliatePortalUser", { affiliateId: a.id, email: text(f, "email"),
                   password: String(f.get("password") ?? ""), displayName: text(f, "displayName") || null },
                   "Portal user created.");
        }}>
        <label>Email <input name="email" type="email" required></label>
        <label>Name <input name="displayName" maxlength="120"></label>
        <label>Password <input name="password" type="password" required autocomplete="new-password"></label>
        <button type="submit" ?disabled=${this.busy}>Add portal user</button></form>` : nothing}
    </section>`;
  }

  setStatus(status) {
    const reason = this.renderRoot.querySelector("[data-status-reason]")?.value?.trim() ?? "";
    if (!reason) {
      this.problem = "Give a reason.";
      return;
    }
    this.run(STATUS, "setAffiliateStatus", { affiliateId: this.affiliateId, status, reason }, `Partner ${words(status)}.`);
  }

  async run(mutation, field, input, done) {
    this.busy = true;
    this.message = "";
    try {
      const result = await client.mutate(mutation, { input });
      this.problem = mutationProblem(result, field);
      if (!this.problem) {
        this.message = done;
        await this.reload();
      }
    } finally {
      this.busy = false;
    }
  }
}

customElements.define("cr-affiliate", AffiliatePage);

class PlayerAffiliate extends PlayerSection {
  heading = "Affiliate";
  field = "affiliate";
  query = `query PlayerAffiliate($id: ID!) { player(id: $id) { affiliate { affiliateId affiliateCode company linkCode
    linkTag subId subIds { key value } clickedAt attributedAt } } }`;
  emptyText = "Not brought by a partner.";

  renderData(data) {
    const a = data.player.affiliate;
    const partner = viewer.can("Query.affiliates")
      ? html`<a href="#/affiliates/${encodeURIComponent(a.affiliateId)}">${a.affiliateCode}</a>` : a.affiliateCode;
    return html`<dl data-attribution>
      <dt>Partner</dt><dd>${partner} <span class="muted">${a.company}</span></dd>
      <dt>Link</dt><dd><code>/a/${a.linkCode}</code> (${a.linkTag})</dd>
      <dt>Sub-ids</dt><dd>${a.subIds.length ? a.subIds.map((s) => `${s.key}=${s.value}`).join(", ") : "—"}</dd>
      <dt>Clicked</dt><dd>${when(a.clickedAt)}</dd><dt>Attributed</dt><dd>${when(a.attributedAt)}</dd>
    </dl>`;
  }
}

customElements.define("cr-player-affiliate", PlayerAffiliate);
