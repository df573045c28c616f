/** Staff sign-in: email, password and the current code of their authenticator app (TOTP). */
import { LitElement, css, html } from "lit";
import { describeError } from "../graphql-client.js";
import { client, shared } from "./ui.js";

class Login extends LitElement {
  static properties = { problem: { state: true }, busy: { state: true } };
  static styles = [shared, css`
    form { max-width: 380px; margin: 8vh auto; display: grid; gap: 1rem; }
    h1 { font-size: 1.4rem; margin: 0; }
    input { width: 100%; box-sizing: border-box; }
  `];

  constructor() {
    super();
    this.problem = "";
    this.busy = false;
  }

  async submit(event) {
    event.preventDefault();
    const form = new FormData(event.target);
    this.busy = true;
    this.problem = "";
    try {
      const payload = await this.authenticate(form);
      if (payload.errors.length) {
        this.problem = payload.errors.map((e) => e.message).join(" ");
        this.renderRoot.querySelector(payload.errors[0].field === "totpCode" ? "#totp" : "#email")?.focus();
        return;
      }
      this.dispatchEvent(new CustomEvent("signed-in", { bubbles: true, composed: true, detail: payload.staff }));
    } catch (error) {
      this.problem = describeError(error);
    } finally {
      this.busy = false;
    }
  }

  /**
   * The staff login; resolves to its payload (`staff`, `errors`). The partner portal's sign-in
   * (admin/portal/sign-in.js) is this form with its own sign-in, its own heading and no code.
   */
  authenticate(form) {
    return client.staffLogin({
      email: String(form.get("email")), password: String(form.get("password")),
      totpCode: String(form.get("totp")).replace(/\s/g, ""),
    });
  }

  get heading() {
    return "Sign in to the back office";
  }

  codeField() {
    return html`<label>Authenticator code
      <input id="totp" name="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,7}"
             required placeholder="6 digits"></label>`;
  }

  render() {
    return html`
      <form class="card" @submit=${this.submit} aria-labelledby="title">
        <h1 id="title">${this.heading}</h1>
        <label>Email <input id="email" name="email" type="email" autocomplete="username" required autofocus></label>
        <label>Password <input id="password" name="password" type="password" autocomplete="current-password" required></label>
        ${this.codeField()}
        ${this.problem ? html`<p class="error" role="alert">${this.problem}</p>` : ""}
        <button class="primary" type="submit" ?disabled=${this.busy}>${this.busy ? "Signing in…" : "Sign in"}</button>
      </form>`;
  }
}

customElements.define("cr-login", Login);
