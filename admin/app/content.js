/**
 * Content (docs/crm-content.md): banners, promotion pages and content blocks. The list of items with their
 * state; the editor (new item or new version: targeting — segment, jurisdictions, priority — and the texts per
 * language); publish now or scheduled (from / until) and unpublish; and the preview: what a given player (or an
 * anonymous visitor of the brand from a country) would see for the item's placement, its newest version served
 * as if published, at an instant.
 */
import { html, nothing } from "lit";
import { QueryElement, client, mutationProblem, viewer, when, words } from "./ui.js";

const VERSION = `version segmentId jurisdictions priority defaultLanguage
  translations { language title body imageUrl linkUrl ctaLabel }`;
const ITEMS = `query ContentItems($first: Int) { contentItems(first: $first) { edges { node {
  id kind key name status publishAt unpublishAt updatedAt latest { ${VERSION} } live { version } } } } }`;
const PAYLOAD = `item { id key status latest { version } live { version } } errors { code field message }`;
const CREATE = `mutation CreateContentItem($input: CreateContentItemInput!) { createContentItem(input: $input) { ${PAYLOAD} } }`;
const UPDATE = `mutation UpdateContentItem($input: UpdateContentItemInput!) { updateContentItem(input: $input) { ${PAYLOAD} } }`;
const PUBLISH = `mutation PublishContentItem($input: PublishContentItemInput!) { publishContentItem(input: $input) { ${PAYLOAD} } }`;
const UNPUBLISH = `mutation UnpublishContentItem($input: UnpublishContentItemInput!) {
  unpublishContentItem(input: $input) { ${PAYLOAD} } }`;
const PREVIEW = `query ContentPreview($input: ContentPreviewInput!) { contentPreview(input: $input) {
  language jurisdiction segmentCount entries { id version title body imageUrl linkUrl ctaLabel language } } }`;

const KINDS = ["BANNER", "PROMOTION", "BLOCK"];
const EMPTY_TEXT = { language: "en", title: "", body: "", imageUrl: "", linkUrl: "", ctaLabel: "" };

/** A datetime-local value (the browser's local time) as an ISO instant, or null. */
function instant(value) {
  return value ? new Date(value).toISOString() : null;
}

function windowOf(item) {
  if (item.status !== "PUBLISHED") return "—";
  return `${when(item.publishAt)} → ${item.unpublishAt ? when(item.unpublishAt) : "open"}`;
}

class ContentEditor extends QueryElement {
  static properties = { ...QueryElement.properties, editing: { state: true }, texts: { state: true },
                        problem: { state: true }, message: { state: true }, busy: { state: true },
                        publishing: { state: true }, preview: { state: true }, previewProblem: { state: true } };
  query = ITEMS;
  emptyText = "No content yet.";

  constructor() {
    super();
    this.editing = null; // null: closed; {}: a new item; an item: a new version of it
    this.texts = [];
    this.publishing = null;
    this.preview = null;
  }

  get rootPath() {
    return ["contentItems"];
  }

  variables() {
    return { first: 100 };
  }

  isEmpty(data) {
    return !data?.contentItems?.edges?.length;
  }

  frame(body) {
    const edit = viewer.can("Mutation.createContentItem");
    return html`<section aria-label="Content items"><h2>Content</h2>
      <div class="row">${edit ? html`<button class="primary" @click=${() => this.open({})}>New item</button>` : nothing}</div>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.editing ? this.form() : nothing}
      ${this.publishing ? this.publishForm() : nothing}
      <div class="card">${body}</div></section>
      ${viewer.can("Query.contentPreview") ? this.previewPane() : nothing}`;
  }

  renderData(data) {
    const edit = viewer.can("Mutation.updateContentItem");
    return html`<table>
      <thead><tr><th>Kind</th><th>Key</th><th>Name</th><th>State</th><th>Versions</th><th>Window</th>
        <th>Actions</th></tr></thead>
      <tbody>${data.contentItems.edges.map(({ node }) => html`<tr data-item=${node.key}>
        <td>${words(node.kind)}</td><td>${node.key}</td><td>${node.name}</td><td>${words(node.status)}</td>
        <td>newest ${node.latest.version}${node.live ? html`, live ${node.live.version}` : nothing}</td>
        <td>${windowOf(node)}</td>
        <td><div class="row">
          ${edit ? html`<button @click=${() => this.open(node)}>Edit</button>
            <button @click=${() => { this.publishing = node; this.problem = ""; }}>Publish</button>
            ${node.status === "PUBLISHED" ? html`<button class="danger" @click=${() => this.unpublish(node)}>Unpublish</button>`
              : nothing}` : nothing}
          ${viewer.can("Query.contentPreview") ? html`<button @click=${() => this.showPreview(node)}>Preview</button>` : nothing}
        </div></td></tr>`)}</tbody></table>`;
  }

  open(item) {
    this.editing = item;
    this.problem = "";
    this.publishing = null;
    this.texts = item.latest ? item.latest.translations.map((t) => ({ ...EMPTY_TEXT, ...t })) : [{ ...EMPTY_TEXT }];
  }

  form() {
    const item = this.editing;
    const latest = item.latest ?? {};
    return html`<form class="card" aria-label="Content item" style="margin-bottom:1rem"
        @submit=${(e) => { e.preventDefault(); this.save(new FormData(e.target)); }}>
      <div class="row">
        ${item.id ? html`<strong>${item.key}: version ${latest.version + 1}</strong>` : html`
          <label>Brand <input name="brand" required maxlength="40" .value=${client.brand ?? ""}></label>
          <label>Kind <select name="kind" aria-label="Kind">
            ${KINDS.map((k) => html`<option value=${k}>${words(k)}</option>`)}</select></label>`}
        <label>Key <input name="key" required maxlength="80" .value=${item.key ?? ""}
          placeholder="home-top, summer-race, footer"></label>
        <label>Name <input name="name" required maxlength="120" .value=${item.name ?? ""}></label>
      </div>
      <fieldset class="row"><legend>Audience</legend>
        <label>Segment id <input name="segmentId" size="38" .value=${latest.segmentId ?? ""} placeholder="everyone"></label>
        <label>Jurisdictions <input name="jurisdictions" .value=${(latest.jurisdictions ?? []).join(", ")}
          placeholder="all, or e.g. MT, SE"></label>
        <label>Priority <input name="priority" type="number" min="-1000" max="1000" size="5" .value=${String(latest.priority ?? 0)}></label>
        <label>Default language <input name="defaultLanguage" size="6" required .value=${latest.defaultLanguage ?? "en"}></label>
      </fieldset>
      ${this.texts.map((t, i) => html`<fieldset class="row" aria-label=${`Texts ${i + 1}`}><legend>Texts</legend>
        <label>Language <input size="6" required .value=${t.language} @input=${(e) => { t.language = e.target.value; }}></label>
        <label>Title <input required maxlength="200" .value=${t.title} @input=${(e) => { t.title = e.target.value; }}></label>
        <label>Body <textarea rows="2" maxlength="20000" .value=${t.body} @input=${(e) => { t.body = e.target.value; }}></textarea></label>
        <label>Image URL <input .value=${t.imageUrl ?? ""} @input=${(e) => { t.imageUrl = e.target.value; }}></label>
        <label>Link URL <input .value=${t.linkUrl ?? ""} @input=${(e) => { t.linkUrl = e.target.value; }}></label>
        <label>Call to action <input maxlength="80" .value=${t.ctaLabel ?? ""} @input=${(e) => { t.ctaLabel = e.target.value; }}></label>
        ${this.texts.length > 1 ? html`<button type="button" @click=${() => { this.texts = this.texts.filter((x) => x !== t); }}>
          Remove language</button>` : nothing}
      </fieldset>`)}
      <div class="row">
        <button type="button" @click=${() => { this.texts = [...this.texts, { ...EMPTY_TEXT, language: "" }]; }}>Add language</button>
        <button class="primary" type="submit" ?disabled=${this.busy}>${item.id ? "Save version" : "Create item"}</button>
        <button type="button" @click=${() => { this.editing = null; }}>Close</button>
      </div>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
    </form>`;
  }

  async save(form) {
    const text = (name) => String(form.get(name) ?? "").trim();
    const content = {
      segmentId: text("segmentId") || null,
      jurisdictions: text("jurisdictions").split(/[\s,]+/).filter(Boolean),
      priority: Number(text("priority") || "0"),
      defaultLanguage: text("defaultLanguage"),
      translations: this.texts.map((t) => ({ language: t.language.trim(), title: t.title, body: t.body,
        imageUrl: t.imageUrl?.trim() || null, linkUrl: t.linkUrl?.trim() || null, ctaLabel: t.ctaLabel?.trim() || null })),
    };
    const item = this.editing;
    const [mutation, field, input] = item.id
      ? [UPDATE, "updateContentItem", { id: item.id, key: text("key"), name: text("name"), content }]
      : [CREATE, "createContentItem", { brand: text("brand"), kind: text("kind"), key: text("key"), name: text("name"), content }];
    await this.run(mutation, field, { input }, (saved) => `Saved ${saved.key}, version ${saved.latest.version}.`,
      () => { this.editing = null; });
  }

  publishForm() {
    const item = this.publishing;
    return html`<form class="card" aria-label="Publish" style="margin-bottom:1rem"
        @submit=${(e) => { e.preventDefault(); this.publish(new FormData(e.target)); }}>
      <div class="row"><strong>Publish ${item.key}</strong>
        <label>Version <input name="version" type="number" min="1" size="4" .value=${String(item.latest.version)}></label>
        <label>From <input name="from" type="datetime-local"></label>
        <label>Until <input name="until" type="datetime-local"></label>
        <button class="primary" type="submit" ?disabled=${this.busy}>Publish version</button>
        <button type="button" @click=${() => { this.publishing = null; }}>Close</button>
      </div>
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
    </form>`;
  }

  async publish(form) {
    const input = { id: this.publishing.id, version: Number(form.get("version")),
                    publishAt: instant(form.get("from")), unpublishAt: instant(form.get("until")) };
    await this.run(PUBLISH, "publishContentItem", { input },
      (saved) => `Published ${saved.key} version ${saved.live.version}.`, () => { this.publishing = null; });
  }

  async unpublish(item) {
    await this.run(UNPUBLISH, "unpublishContentItem", { input: { id: item.id } }, (saved) => `Unpublished ${saved.key}.`);
  }

  async run(mutation, field, variables, done, after) {
    this.busy = true;
    this.message = "";
    this.problem = "";
    try {
      const result = await client.mutate(mutation, variables);
      this.problem = mutationProblem(result, field);
      if (!this.problem) {
        this.message = done(result.data[field].item);
        after?.();
        await this.reload();
      } else if (!this.editing && !this.publishing) {
        this.message = "";
      }
    } finally {
      this.busy = false;
    }
  }

  previewPane() {
    return html`<section aria-label="Preview"><h2>Preview</h2>
      <form class="card row" aria-label="Preview as" @submit=${(e) => { e.preventDefault(); this.showPreview(this.previewItem, new FormData(e.target)); }}>
        <label>Player id <input name="playerId" size="38" placeholder="an anonymous visitor"></label>
        <label>Country <input name="country" size="3" placeholder="MT"></label>
        <label>Language <input name="language" size="6" placeholder="the player's"></label>
        <label>At <input name="at" type="datetime-local"></label>
        <button type="submit" ?disabled=${!this.previewItem}>Preview again</button>
      </form>
      ${this.previewProblem ? html`<p class="error" role="alert">${this.previewProblem}</p>` : nothing}
      ${this.preview ? html`<div class="card" aria-label="Preview result">
        <p class="state">${words(this.previewItem.kind)} ${this.previewItem.key}: language ${this.preview.language},
          jurisdiction ${this.preview.jurisdiction ?? "unknown"}, in ${this.preview.segmentCount} segment(s)</p>
        ${this.preview.entries.length ? this.preview.entries.map((e) => html`<article class="card" data-entry=${e.title}>
          ${e.imageUrl ? html`<img src=${e.imageUrl} alt="" style="max-width:240px">` : nothing}
          <h3>${e.title}</h3><p>${e.body}</p>
          ${e.ctaLabel ? html`<a href=${e.linkUrl ?? "#"} rel="noopener">${e.ctaLabel}</a>` : nothing}
          <small>version ${e.version}, ${e.language}</small></article>`)
          : html`<p class="state">Nothing would be shown.</p>`}
      </div>` : html`<p class="state">Choose Preview on an item.</p>`}
    </section>`;
  }

  async showPreview(item, form) {
    if (!item) return;
    this.previewItem = item;
    const text = (name) => String(form?.get(name) ?? "").trim();
    const input = { draftItemId: item.id, playerId: text("playerId") || null, country: text("country") || null,
                    language: text("language") || null, at: instant(text("at")) };
    const result = await client.query(PREVIEW, { input });
    const failure = result.refused ?? result.failures[0];
    this.previewProblem = failure ? String(failure.message ?? failure) : "";
    this.preview = failure ? null : result.data.contentPreview;
  }
}

customElements.define("cr-content", ContentEditor);
