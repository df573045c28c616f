/**
 * A portal user's sign-in: the email and password the operator's affiliate manager gave them. The back
 * office's sign-in form (its look, its busy and problem states) with the partner's sign-in, its own heading
 * and no authenticator code. The shell passes a reason in `problem` when it ended a session that was not
 * a partner's.
 */
import { nothing } from "lit";
import "/admin/app/login.js";
import { signIn } from "./portal.js";

const StaffSignIn = customElements.get("cr-login");

class SignIn extends StaffSignIn {
  authenticate(form) {
    return signIn(String(form.get("email")), String(form.get("password")));
  }

  get heading() {
    return "Sign in to the partner portal";
  }

  codeField() {
    return nothing;
  }
}

customElements.define("cp-sign-in", SignIn);
