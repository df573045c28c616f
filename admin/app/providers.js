/**
 * Game providers and their catalog (content managers; platform-wide, so no brand to pick): the
 * providers with their protocol and credential (a key's fingerprint, a secret's settings name, never
 * the material), add one, rotate its key, switch it on or off; a provider's games, add or edit one,
 * switch one on or off; import its game list (Hub88 /game/list JSON) with a dry-run preview first.
 * Every action is offered only when the server's permissions allow it, and asks for a reason where
 * the server requires one (it goes to the audit log).
 */
import { html, nothing } from "lit";
import { keyed } from "lit/directives/keyed.js";
import { QueryElement, badge, client, mutationProblem, viewer, words } from "./ui.js";
import "./catalogue-sync.js";

/** "sha256:0123456789abcdef…" (the full fingerprint is in the title). */
function shortFingerprint(value) {
  return value ? `sha256:${value.slice(0, 16)}…` : "";
}

function field(form, name) {
  return form.querySelector(`[name="${name}"]`)?.value.trim() ?? "";
}

/** "EUR 0.10, SEK 1" → [{currency, amount}] (blank: none given). */
function limits(text) {
  return text.split(",").map((part) => part.trim()).filter(Boolean).map((part) => {
    const [currency = "", amount = ""] = part.split(/\s+/);
    return { currency, amount };
  });
}

function limitsText(list) {
  return (list ?? []).map((m) => `${m.currency} ${m.amount}`).join(", ");
}

function list(text) {
  return text.split(",").map((s) => s.trim()).filter(Boolean);
}

class Providers extends QueryElement {
  static properties = { ...QueryElement.properties, message: { state: true }, problem: { state: true },
                        selected: { state: true }, rotating: { state: true }, adding: { state: true },
                        freeRounds: { state: true } };
  query = `query Providers { gameProviders(first: 100) { edges { node { code name protocol enabled launchUrl
    freeRoundsUrl publicKeyFingerprint publicKeyBits secretRef secretConfigured gameCount } } } }`;
  emptyText = "No provider yet: add the first one above.";

  constructor() {
    super();
    this.selected = null;
    this.rotating = null;
    this.adding = false;
    this.freeRounds = null;
  }

  get rootPath() {
    return ["gameProviders"];
  }

  isEmpty(data) {
    return !data?.gameProviders?.edges?.length;
  }

  get reason() {
    return this.renderRoot.querySelector("#reason")?.value.trim() ?? "";
  }

  needReason() {
    if (this.reason) return false;
    this.problem = "Give a reason for the change first (it goes to the audit log).";
    this.renderRoot.querySelector("#reason")?.focus();
    return true;
  }

  frame(body) {
    return html`<h2>Game providers</h2>
      <div class="row" style="margin-bottom:.75rem">
        <label style="flex:1">Reason for a change <input id="reason" placeholder="e.g. contract signed, key rotation"></label>
        ${viewer.can("Mutation.addGameProvider") ? html`<button @click=${() => { this.adding = !this.adding; }}
          aria-expanded=${this.adding ? "true" : "false"}>Add a provider</button>` : nothing}
      </div>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${this.adding ? this.addForm() : nothing}
      <div class="card">${body}</div>
      ${this.selected ? keyed(this.selected, html`<cr-provider-games .provider=${this.selected}
        @changed=${() => this.reload()}></cr-provider-games>`) : nothing}
      <cr-catalogue-sync></cr-catalogue-sync>`;
  }

  addForm() {
    return html`<form class="card" style="margin-bottom:1rem" aria-label="New provider" @submit=${(e) => this.add(e)}>
      <h3>New provider</h3>
      <div class="row">
        <label>Code <input name="code" required placeholder="acme" autocomplete="off"></label>
        <label>Name <input name="name" required placeholder="Acme Games"></label>
        <label>Protocol <select name="protocol"><option value="HUB88">Hub88 (RSA key)</option>
          <option value="SOFTSWISS">SoftSwiss (HMAC secret)</option>
          <option value="PRAGMATIC">Pragmatic Play (MD5 secret key)</option></select></label>
        <label style="flex:1">Launch URL <input name="launchUrl" placeholder="https://games.example/launch"></label>
        <label style="flex:1">Free-rounds API URL <input name="freeRoundsUrl"
          placeholder="https://api.example/operator/generic/v2"></label>
      </div>
      <div class="row" style="margin-top:.5rem">
        <label style="flex:2">Public key (Hub88, PEM) <textarea name="publicKeyPem" rows="4"
          placeholder="-----BEGIN PUBLIC KEY-----"></textarea></label>
        <label style="flex:1">Secret reference (SoftSwiss, Pragmatic Play) <input name="secretRef" placeholder="PROVIDER_SECRETS entry"></label>
      </div>
      <div class="row" style="margin-top:.5rem"><button class="primary" type="submit">Save provider</button></div>
    </form>`;
  }

  renderData(data) {
    const canSwitch = viewer.can("Mutation.setGameProviderEnabled");
    const canKey = viewer.can("Mutation.setGameProviderKey") || viewer.can("Mutation.setGameProviderSecretRef");
    const canUpdate = viewer.can("Mutation.updateGameProvider");
    const providers = data.gameProviders.edges.map((e) => e.node);
    return html`<table>
      <thead><tr><th>Provider</th><th>Protocol</th><th>State</th><th>Signs with</th><th>Free rounds API</th><th class="num">Games</th>
        <th>Actions</th></tr></thead>
      <tbody>${providers.map((p) => html`<tr data-provider=${p.code} aria-selected=${this.selected === p.code ? "true" : "false"}>
        <td><strong>${p.name}</strong><br><span class="muted">${p.code}</span></td>
        <td>${words(p.protocol)}</td>
        <td>${badge(p.enabled ? "on" : "off")}</td>
        <td>${p.protocol === "HUB88"
          ? (p.publicKeyFingerprint ? html`<code title=${p.publicKeyFingerprint}>${shortFingerprint(p.publicKeyFingerprint)}</code>
              <span class="muted">${p.publicKeyBits} bits</span>` : html`<span class="badge warn">no key</span>`)
          : html`<code>${p.secretRef ?? p.code}</code> ${p.secretConfigured ? nothing : html`<span class="badge bad">not configured</span>`}`}</td>
        <td>${p.freeRoundsUrl ? html`<code>${p.freeRoundsUrl}</code>` : html`<span class="muted">launch URL</span>`}</td>
        <td class="num">${p.gameCount}</td>
        <td><div class="row">
          <button aria-label="Games of ${p.name}" @click=${() => { this.selected = p.code; }}>Games</button>
          ${canKey ? html`<button aria-label="Rotate the key of ${p.name}" @click=${() => { this.rotating = p; }}>
            ${p.protocol === "HUB88" ? "Rotate key" : "Change secret"}</button>` : nothing}
          ${canUpdate ? html`<button aria-label="Free rounds API of ${p.name}" @click=${() => { this.freeRounds = p; }}>
            Free rounds API</button>` : nothing}
          ${canSwitch ? html`<button class=${p.enabled ? "danger" : "primary"} aria-label="${p.enabled ? "Disable" : "Enable"} ${p.name}"
            @click=${() => this.toggle(p)}>${p.enabled ? "Disable" : "Enable"}</button>` : nothing}
        </div></td></tr>
        ${this.rotating?.code === p.code ? html`<tr><td colspan="7">${this.keyForm(p)}</td></tr>` : nothing}
        ${this.freeRounds?.code === p.code ? html`<tr><td colspan="7">${this.freeRoundsForm(p)}</td></tr>` : nothing}`)}
      </tbody></table>`;
  }

  keyForm(provider) {
    const rsa = provider.protocol === "HUB88";
    return html`<form aria-label="New credential of ${provider.name}" @submit=${(e) => this.saveKey(e, provider)}>
      <div class="row">
        ${rsa ? html`<label style="flex:1">New public key (PEM) <textarea name="publicKeyPem" rows="5" required
            placeholder="-----BEGIN PUBLIC KEY-----"></textarea></label>`
          : html`<label style="flex:1">Secret reference <input name="secretRef" required placeholder="PROVIDER_SECRETS entry"></label>`}
        <button class="primary" type="submit">Save key</button>
        <button type="button" @click=${() => { this.rotating = null; }}>Cancel</button>
      </div></form>`;
  }

  freeRoundsForm(provider) {
    return html`<form aria-label="Free rounds API of ${provider.name}" @submit=${(e) => this.saveFreeRounds(e, provider)}>
      <div class="row">
        <label style="flex:1">Free-rounds API URL (empty: rounds go in the launch URL) <input name="freeRoundsUrl"
          .value=${provider.freeRoundsUrl ?? ""} placeholder="https://api.example/operator/generic/v2"></label>
        <button class="primary" type="submit">Save URL</button>
        <button type="button" @click=${() => { this.freeRounds = null; }}>Cancel</button>
      </div></form>`;
  }

  async saveFreeRounds(event, provider) {
    event.preventDefault();
    if (this.needReason()) return;
    const input = { provider: provider.code, freeRoundsUrl: field(event.target, "freeRoundsUrl"), reason: this.reason };
    const result = await client.mutate(`mutation UpdateGameProvider($input: UpdateGameProviderInput!) {
      updateGameProvider(input: $input) { provider { freeRoundsUrl } errors { code field message } } }`, { input });
    this.problem = mutationProblem(result, "updateGameProvider");
    if (this.problem) return;
    const url = result.data.updateGameProvider.provider.freeRoundsUrl;
    this.message = url ? `${provider.name} grants free rounds through ${url}.` : `${provider.name} gets free rounds in its launch URL.`;
    this.freeRounds = null;
    await this.reload();
  }

  async add(event) {
    event.preventDefault();
    const form = event.target;
    const input = { code: field(form, "code"), name: field(form, "name"), protocol: field(form, "protocol"),
                    reason: this.reason };
    for (const name of ["launchUrl", "freeRoundsUrl", "publicKeyPem", "secretRef"]) {
      if (field(form, name)) input[name] = field(form, name);
    }
    const result = await client.mutate(`mutation AddGameProvider($input: AddGameProviderInput!) {
      addGameProvider(input: $input) { provider { code name } errors { code field message } } }`, { input });
    this.problem = mutationProblem(result, "addGameProvider");
    if (this.problem) return;
    this.message = `${input.name} added.`;
    this.adding = false;
    await this.reload();
  }

  async saveKey(event, provider) {
    event.preventDefault();
    if (this.needReason()) return;
    const form = event.target;
    const rsa = provider.protocol === "HUB88";
    const result = rsa
      ? await client.mutate(`mutation SetGameProviderKey($input: SetGameProviderKeyInput!) {
          setGameProviderKey(input: $input) { provider { publicKeyFingerprint publicKeyBits } errors { code field message } } }`,
        { input: { provider: provider.code, publicKeyPem: field(form, "publicKeyPem"), reason: this.reason } })
      : await client.mutate(`mutation SetGameProviderSecretRef($input: SetGameProviderSecretRefInput!) {
          setGameProviderSecretRef(input: $input) { provider { secretRef } errors { code field message } } }`,
        { input: { provider: provider.code, secretRef: field(form, "secretRef"), reason: this.reason } });
    const name = rsa ? "setGameProviderKey" : "setGameProviderSecretRef";
    this.problem = mutationProblem(result, name);
    if (this.problem) return;
    const changed = result.data[name].provider;
    this.message = rsa ? `${provider.name} now verifies with ${shortFingerprint(changed.publicKeyFingerprint)} (${changed.publicKeyBits} bits).`
      : `${provider.name} now signs with ${changed.secretRef}.`;
    this.rotating = null;
    await this.reload();
  }

  async toggle(provider) {
    if (this.needReason()) return;
    const enabled = !provider.enabled;
    const result = await client.mutate(`mutation SetGameProviderEnabled($input: SetGameProviderEnabledInput!) {
      setGameProviderEnabled(input: $input) { provider { enabled } errors { code field message } } }`,
    { input: { provider: provider.code, enabled, reason: this.reason } });
    this.problem = mutationProblem(result, "setGameProviderEnabled");
    this.message = this.problem ? "" : `${provider.name} is now ${enabled ? "on" : "off"}.`;
    await this.reload();
  }
}

/** One provider's games, the game form (add or edit) and the import with its preview. */
class ProviderGames extends QueryElement {
  static properties = { ...QueryElement.properties, provider: {}, message: { state: true },
                        problem: { state: true }, editing: { state: true }, preview: { state: true } };
  query = `query ProviderGames($provider: String!) { catalogGames(provider: $provider, first: 100) { edges { node {
    id code title type rtp volatility currencies countries tags enabled minBets { amount currency }
    maxBets { amount currency } contributionCategory demoAvailable imageUrl } } } }`;
  emptyText = "No games yet: add one or import the provider's list.";

  constructor() {
    super();
    this.editing = null; // null: no form; {}: a new game; a game: editing it
    this.preview = null;
  }

  variables() {
    return { provider: this.provider };
  }

  get rootPath() {
    return ["catalogGames"];
  }

  isEmpty(data) {
    return !data?.catalogGames?.edges?.length;
  }

  frame(body) {
    const canCreate = viewer.can("Mutation.createGame");
    return html`<section class="card" style="margin-top:1rem" aria-labelledby="games-title">
      <div class="row" style="justify-content:space-between"><h3 id="games-title">Games of ${this.provider}</h3>
        ${canCreate ? html`<button @click=${() => { this.editing = {}; }}>Add a game</button>` : nothing}</div>
      ${this.message ? html`<p class="ok" role="status">${this.message}</p>` : nothing}
      ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : nothing}
      ${this.editing ? this.gameForm(this.editing) : nothing}
      ${body}
      ${viewer.can("Mutation.importGames") ? this.importForm() : nothing}
    </section>`;
  }

  renderData(data) {
    const canEdit = viewer.can("Mutation.updateGame");
    const canSwitch = viewer.can("Mutation.setGameEnabled");
    return html`<table>
      <thead><tr><th>Game</th><th>Type</th><th class="num">RTP</th><th>Currencies</th><th>State</th><th>Actions</th></tr></thead>
      <tbody>${data.catalogGames.edges.map((e) => e.node).map((g) => html`<tr data-game=${g.code}>
        <td>${g.title}<br><span class="muted">${g.code}</span></td><td>${words(g.type)}</td><td class="num">${g.rtp}%</td>
        <td>${g.currencies.join(", ") || "—"}</td><td>${badge(g.enabled ? "on" : "off")}</td>
        <td><div class="row">
          ${canEdit ? html`<button aria-label="Edit ${g.title}" @click=${() => { this.editing = g; }}>Edit</button>` : nothing}
          ${canSwitch ? html`<button class=${g.enabled ? "danger" : "primary"} aria-label="${g.enabled ? "Disable" : "Enable"} ${g.title}"
            @click=${() => this.toggle(g)}>${g.enabled ? "Disable" : "Enable"}</button>` : nothing}
        </div></td></tr>`)}</tbody></table>`;
  }

  gameForm(game) {
    const isNew = !game.id;
    return html`<form aria-label=${isNew ? "New game" : `Edit ${game.title}`} style="margin:.5rem 0 1rem"
        @submit=${(e) => this.saveGame(e, game)}>
      <div class="row">
        <label>Game code <input name="code" .value=${game.code ?? ""} ?disabled=${!isNew} required></label>
        <label style="flex:1">Title <input name="title" .value=${game.title ?? ""} required></label>
        <label>Type <select name="type">${["SLOT", "LIVE", "CRASH", "TABLE", "LOTTERY"].map((t) => html`
          <option value=${t} ?selected=${game.type === t}>${words(t)}</option>`)}</select></label>
        <label>RTP % <input name="rtp" .value=${game.rtp ?? ""} required size="6"></label>
        <label>Volatility <select name="volatility">${["LOW", "MEDIUM", "HIGH"].map((v) => html`
          <option value=${v} ?selected=${(game.volatility ?? "MEDIUM") === v}>${words(v)}</option>`)}</select></label>
      </div>
      <div class="row" style="margin-top:.5rem">
        <label>Currencies <input name="currencies" .value=${(game.currencies ?? []).join(", ")} placeholder="EUR, SEK"></label>
        <label>Countries (empty: all) <input name="countries" .value=${(game.countries ?? []).join(", ")}></label>
        <label>Minimum bets <input name="minBets" .value=${limitsText(game.minBets)} placeholder="EUR 0.10, SEK 1"></label>
        <label>Maximum bets <input name="maxBets" .value=${limitsText(game.maxBets)} placeholder="EUR 100"></label>
        <label>Tags <input name="tags" .value=${(game.tags ?? []).join(", ")}></label>
      </div>
      <div class="row" style="margin-top:.5rem"><button class="primary" type="submit">Save game</button>
        <button type="button" @click=${() => { this.editing = null; }}>Cancel</button></div>
    </form>`;
  }

  async saveGame(event, game) {
    event.preventDefault();
    const form = event.target;
    const fields = { title: field(form, "title"), type: field(form, "type"), rtp: field(form, "rtp"),
                     volatility: field(form, "volatility"), currencies: list(field(form, "currencies")),
                     countries: list(field(form, "countries")), tags: list(field(form, "tags")),
                     minBets: limits(field(form, "minBets")), maxBets: limits(field(form, "maxBets")) };
    let result;
    let name;
    if (game.id) {
      name = "updateGame";
      result = await client.mutate(`mutation UpdateGame($input: UpdateGameInput!) {
        updateGame(input: $input) { game { code title } errors { code field message } } }`,
      { input: { gameId: game.id, ...fields } });
    } else {
      name = "createGame";
      result = await client.mutate(`mutation CreateGame($input: CreateGameInput!) {
        createGame(input: $input) { game { code title } errors { code field message } } }`,
      { input: { provider: this.provider, code: field(form, "code"), ...fields } });
    }
    this.problem = mutationProblem(result, name);
    if (this.problem) return;
    this.message = `${fields.title} ${game.id ? "saved" : "added"}.`;
    this.editing = null;
    await this.reload();
    this.dispatchEvent(new CustomEvent("changed"));
  }

  async toggle(game) {
    const enabled = !game.enabled;
    const result = await client.mutate(`mutation SetGameEnabled($input: SetGameEnabledInput!) {
      setGameEnabled(input: $input) { game { enabled } errors { code field message } } }`,
    { input: { gameId: game.id, enabled, reason: `switched ${enabled ? "on" : "off"} in the back office` } });
    this.problem = mutationProblem(result, "setGameEnabled");
    this.message = this.problem ? "" : `${game.title} is now ${enabled ? "on" : "off"}.`;
    await this.reload();
  }

  importForm() {
    return html`<form aria-label="Import the game list" style="margin-top:1rem" @submit=${(e) => e.preventDefault()}>
      <h3>Import the provider's game list</h3>
      <div class="row">
        <label style="flex:1">Game list (JSON, Hub88 /game/list) <textarea name="games" rows="5"
          placeholder='[{"game_code": "…", "name": "…", "category": "Video Slots", "rtp": "96.1"}]'></textarea></label>
        <label>Currencies of new games <input name="importCurrencies" placeholder="EUR, SEK"></label>
      </div>
      <div class="row" style="margin-top:.5rem">
        <button type="button" @click=${(e) => this.runImport(e.target.form, true)}>Preview</button>
        <button type="button" class="primary" ?disabled=${!this.preview}
          @click=${(e) => this.runImport(e.target.form, false)}>Import</button>
      </div>
      ${this.preview ? this.previewOf(this.preview) : nothing}
    </form>`;
  }

  previewOf(report) {
    const value = (v) => JSON.stringify(v);
    return html`<div class="card" style="margin-top:.5rem" aria-label="Import preview">
      <p><strong>${report.dryRun ? "Would add" : "Added"} ${report.added.length}, ${report.dryRun ? "would change" : "changed"}
        ${report.changed.length}</strong>, ${report.unchanged.length} unchanged, ${report.missing.length} missing from the list${
        report.dryRun ? " (preview: nothing written yet)" : ""}.</p>
      <ul>
        ${report.added.map((d) => html`<li>+ <code>${d.code}</code> ${d.title}</li>`)}
        ${report.changed.map((d) => html`<li>~ <code>${d.code}</code> ${d.changes.map((c) => `${c.field}: ${value(c.old)} → ${value(c.new)}`).join("; ")}</li>`)}
        ${report.missing.map((code) => html`<li>− <code>${code}</code> not in the list (kept)</li>`)}
      </ul></div>`;
  }

  async runImport(form, dryRun) {
    let games;
    try {
      games = JSON.parse(field(form, "games") || "null");
    } catch (error) {
      this.problem = `The game list is not JSON: ${error.message}`;
      return;
    }
    const result = await client.mutate(`mutation ImportGames($input: ImportGamesInput!) { importGames(input: $input) {
      report { provider dryRun added { code title changes { field old new } } changed { code title changes { field old new } }
        unchanged missing } errors { code field message } } }`,
    { input: { provider: this.provider, games, dryRun, currencies: list(field(form, "importCurrencies")),
               reason: "game list imported in the back office" } });
    this.problem = mutationProblem(result, "importGames");
    if (this.problem) {
      this.preview = null;
      return;
    }
    this.preview = result.data.importGames.report;
    this.message = dryRun ? "" : `Imported: ${this.preview.added.length} added, ${this.preview.changed.length} changed.`;
    if (!dryRun) {
      await this.reload();
      this.dispatchEvent(new CustomEvent("changed"));
    }
  }
}

customElements.define("cr-providers", Providers);
customElements.define("cr-provider-games", ProviderGames);
