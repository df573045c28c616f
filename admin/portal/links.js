/**
 * Links: the partner's tracking links (tag, brand, landing page, the URL to publish), newest first and 50
 * a page, and the form that makes one (`createAffiliateLink`). "Copy" puts the URL on the clipboard;
 * sub-ids ride along as query parameters (`?sub1=…` up to `sub5`), so one link serves every placement.
 */
import { html, nothing } from "lit";
import { pager, when } from "/admin/app/ui.js";
import { PortalQuery, partner } from "./portal.js";

const LINKS = `query PortalLinks($first: Int, $after: String) { affiliatePortal { links(first: $first, after: $after) {
  edges { cursor node { id code tag brandCode landingPath url createdAt } } pageInfo { hasNextPage } } } }`;
const CREATE = `mutation CreateAffiliateLink($input: CreateAffiliateLinkInput!) { createAffiliateLink(input: $input) {
  link { id code tag url } errors { code field message } } }`;

class Links extends PortalQuery {
  query = LINKS;
  emptyText = "No link yet.";
  pages = [null];

  get rootPath() {
    return ["affiliatePortal", "links"];
  }

  variables() {
    return { first: 50, after: this.pages[this.pages.length - 1] };
  }

  isEmpty(data) {
    return !data?.affiliatePortal?.links?.edges?.length;
  }

  async create(event) {
    event.preventDefault();
    const element = event.target; // kept: once the event is dispatched, its target in a shadow root is null
    const form = new FormData(element);
    const input = { brandCode: String(form.get("brand")), tag: String(form.get("tag")).trim() };
    const landingPath = String(form.get("landingPath")).trim();
    const made = await this.act(CREATE, { input: landingPath ? { ...input, landingPath } : input }, "createAffiliateLink");
    if (made?.link) {
      element.reset();
      this.pages = [null];
      await this.reload();
      this.message = `Link ${made.link.tag} made: ${made.link.url}`;
    }
  }

  frame(body) {
    return html`<h2>Links</h2>
      ${partner.can("LINKS_WRITE") ? this.form() : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      <p class="muted">Add sub-ids to any link as <code>?sub1=…</code> (up to <code>sub5</code>): stats group by <code>sub1</code>.</p>
      <div class="card">${body}</div>`;
  }

  form() {
    const brands = partner.current?.brands ?? [];
    return html`<form class="card row" aria-label="New link" @submit=${this.create} style="margin-bottom:1rem">
      <label>Brand <select name="brand" required>
        ${brands.map((code) => html`<option value=${code}>${code}</option>`)}</select></label>
      <label>Tag <input name="tag" required maxlength="64" placeholder="spring-banner"></label>
      <label>Landing page <input name="landingPath" maxlength="500" placeholder="/" pattern="/.*"
        title="A path on the brand's site, starting with /"></label>
      <button class="primary" type="submit" ?disabled=${this.busy || !brands.length}>Make link</button>
    </form>`;
  }

  renderData(data) {
    const { edges, pageInfo } = data.affiliatePortal.links;
    return html`<table aria-label="Links">
      <thead><tr><th>Tag</th><th>Brand</th><th>Landing page</th><th>URL</th><th>Made</th></tr></thead>
      <tbody>${edges.map(({ node: link }) => html`<tr data-code=${link.code}>
        <td>${link.tag}</td><td>${link.brandCode}</td><td>${link.landingPath}</td>
        <td><div class="row" style="flex-wrap:nowrap">
          <input readonly data-code=${link.code} .value=${link.url} aria-label="URL of ${link.tag}" size="34">
          <button type="button" aria-label="Copy the URL of ${link.tag}"
            @click=${() => this.copy(link.url, `input[data-code="${link.code}"]`, `Copied ${link.url}`)}>Copy</button>
        </div></td>
        <td>${when(link.createdAt)}</td></tr>`)}</tbody>
    </table>${pager(this, edges, pageInfo)}`;
  }
}

customElements.define("cp-links", Links);
