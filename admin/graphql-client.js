/**
 * A small GraphQL client for Croupier, free of any UI framework: an operator's own frontend can
 * import this one file (plus `graphql-ws`) and get what the back office uses.
 *
 * - `query` / `mutate`: GraphQL over HTTP (POST, JSON), with the bearer token and the brand header;
 * - `subscribe`: graphql-transport-ws (the `graphql-ws` package), authenticated in connection_init;
 * - tokens: kept in the storage you give (sessionStorage by default), refreshed shortly before the
 *   access token expires and once more when the server says it has expired; refresh tokens are
 *   single-use, so concurrent callers share one refresh;
 * - errors: every answer is a `Result` that tells FORBIDDEN fields (hide them) from real failures, and
 *   `describeError` turns error codes into words a staff member understands.
 *
 * Invariant: nothing here knows the authorisation policy. What the viewer may read comes back as
 * FORBIDDEN errors at field paths; what they may do, from the `permissions` query.
 */
import { createClient } from "graphql-ws";

const STORAGE_KEY = "croupier.tokens";
const REFRESH_MARGIN_MS = 60_000; // refresh a minute before the access token expires

const REFRESH = `mutation Refresh($input: RefreshTokenInput) {
  refreshToken(input: $input) { tokens { accessToken refreshToken accessTokenExpiresAt } errors { code message } }
}`;
const STAFF_LOGIN = `mutation StaffLogin($input: StaffLoginInput!) {
  staffLogin(input: $input) {
    staff { id email displayName roles { role brand { code name } } }
    tokens { accessToken refreshToken accessTokenExpiresAt }
    errors { code field message }
  }
}`;
const LOGOUT = `mutation { logout { revokedSessions errors { code message } } }`;
const PERMISSIONS = `query Permissions($coordinates: [String!]) { permissions(coordinates: $coordinates) }`;

/** Words for staff, per error code (GraphQL `extensions.code`). Payload `UserError`s bring their own. */
const WORDS = {
  UNAUTHENTICATED: "Your session has ended. Please sign in again.",
  FORBIDDEN: "Your role does not allow this.",
  RATE_LIMITED: "Too many requests. Wait a moment and try again.",
  INTERNAL: "Something went wrong on our side. Try again; if it keeps happening, tell the platform team.",
  NETWORK: "The server cannot be reached. Check your connection and try again.",
};

/** One GraphQL answer: `data` plus the errors, with questions a screen asks of them. */
export class Result {
  constructor(data, errors = [], extensions = undefined) {
    this.data = data ?? null;
    this.errors = errors ?? [];
    this.extensions = extensions;
  }

  /** Errors whose path starts with `path` (e.g. ["player", "dateOfBirth"]). */
  errorsAt(...path) {
    return this.errors.filter((e) => Array.isArray(e.path) && path.every((part, i) => e.path[i] === part));
  }

  /** True when the field at exactly `path` was refused to this viewer: hide it. */
  forbidden(...path) {
    return this.errorsAt(...path).some((e) => codeOf(e) === "FORBIDDEN" && e.path.length === path.length);
  }

  /** The errors a screen must report: everything but FORBIDDEN fields (those are hidden, not errors). */
  get failures() {
    return this.errors.filter((e) => !(codeOf(e) === "FORBIDDEN" && Array.isArray(e.path) && e.path.length > 1));
  }

  /** A request-level error: the whole request was refused (no field resolved). */
  get refused() {
    return this.data === null && this.errors.length > 0 ? this.errors[0] : null;
  }
}

export class GraphQLRequestError extends Error {
  constructor(error) {
    super(describeError(error));
    this.code = codeOf(error);
    this.graphqlError = error;
  }
}

export function codeOf(error) {
  return error?.extensions?.code ?? error?.code ?? "INTERNAL";
}

/** What to tell a staff member about a GraphQL error, a payload `UserError` or a network failure. */
export function describeError(error) {
  if (!error) return "";
  if (error instanceof GraphQLRequestError) return error.message;
  if (error instanceof TypeError && /fetch|network|load failed/i.test(error.message)) {
    return WORDS.NETWORK; // fetch() failed: offline, DNS, connection refused
  }
  if (error instanceof Error && !error.extensions) {
    console.error(error); // a bug in the page, not an answer of the server
    return WORDS.INTERNAL;
  }
  const code = codeOf(error);
  if (code === "RATE_LIMITED" && error.extensions?.retryAfter) {
    return `Too many requests. Try again in ${error.extensions.retryAfter} seconds.`;
  }
  if (code === "INTERNAL") {
    const ref = error.extensions?.requestId;
    return ref ? `${WORDS.INTERNAL} (reference ${ref})` : WORDS.INTERNAL;
  }
  if (code in WORDS && code !== "FORBIDDEN") return WORDS[code];
  // BAD_USER_INPUT, FORBIDDEN with a reason, and payload UserErrors: the server's message is meant for people.
  return error.message || WORDS[code] || WORDS.INTERNAL;
}

export class CroupierClient extends EventTarget {
  /**
   * @param {object} options
   * @param {string} [options.url] the GraphQL endpoint (default: /graphql on this origin)
   * @param {string} [options.wsUrl] the WebSocket endpoint (default: derived from url)
   * @param {Storage|null} [options.storage] where tokens live between page loads (null: memory only)
   * @param {typeof fetch} [options.fetch]
   */
  constructor({ url = "/graphql", wsUrl, storage = globalThis.sessionStorage ?? null, fetch: fetcher } = {}) {
    super();
    this.url = new URL(url, globalThis.location?.href).toString();
    this.wsUrl = wsUrl ?? this.url.replace(/^http/, "ws");
    this.storage = storage;
    this.fetch = fetcher ?? globalThis.fetch.bind(globalThis);
    this.brand = null; // a brand code: sent as X-Croupier-Brand (staff with several brands)
    this._tokens = this._load();
    this._refreshing = null;
    this._timer = null;
    this._ws = null;
    this._schedule();
  }

  // ---- tokens -------------------------------------------------------------------------------

  get signedIn() {
    return Boolean(this._tokens?.accessToken);
  }

  setTokens(tokens) {
    this._tokens = tokens ? { ...tokens } : null;
    if (this.storage) {
      if (tokens) this.storage.setItem(STORAGE_KEY, JSON.stringify(tokens));
      else this.storage.removeItem(STORAGE_KEY);
    }
    this._closeSocket(); // the next subscription authenticates with the new token
    this._schedule();
    this.dispatchEvent(new CustomEvent(tokens ? "tokens" : "signedout"));
  }

  setBrand(code) {
    this.brand = code || null;
    this._closeSocket();
  }

  _load() {
    try {
      return JSON.parse(this.storage?.getItem(STORAGE_KEY) ?? "null");
    } catch {
      return null;
    }
  }

  _schedule() {
    clearTimeout(this._timer);
    const expires = Date.parse(this._tokens?.accessTokenExpiresAt ?? "");
    if (!Number.isFinite(expires)) return;
    const wait = Math.max(expires - Date.now() - REFRESH_MARGIN_MS, 0);
    this._timer = setTimeout(() => this.refresh().catch(() => {}), wait);
  }

  /** Exchange the refresh token for new tokens (one exchange at a time: refresh tokens work once). */
  refresh() {
    if (!this._refreshing) {
      this._refreshing = (async () => {
        const refreshToken = this._tokens?.refreshToken;
        if (!refreshToken) throw new GraphQLRequestError({ extensions: { code: "UNAUTHENTICATED" } });
        const result = await this._post(REFRESH, { input: { refreshToken } }, false);
        const payload = result.data?.refreshToken;
        if (!payload?.tokens) {
          this.setTokens(null);
          throw new GraphQLRequestError({ extensions: { code: "UNAUTHENTICATED" } });
        }
        this.setTokens(payload.tokens);
        return payload.tokens;
      })().finally(() => {
        this._refreshing = null;
      });
    }
    return this._refreshing;
  }

  // ---- requests -----------------------------------------------------------------------------

  _send(query, variables, accessToken) {
    const headers = { "content-type": "application/json", accept: "application/graphql-response+json" };
    if (accessToken) headers.authorization = `Bearer ${accessToken}`;
    if (this.brand) headers["x-croupier-brand"] = this.brand;
    return this.fetch(this.url, { method: "POST", headers, body: JSON.stringify({ query, variables: variables ?? {} }) });
  }

  async _post(query, variables, authenticated = true) {
    const response = await this._send(query, variables, authenticated ? this._tokens?.accessToken : null);
    let body;
    try {
      body = await response.json();
    } catch {
      return new Result(null, [{ message: `HTTP ${response.status}`, extensions: { code: "INTERNAL" } }]);
    }
    return new Result(body.data, body.errors, body.extensions);
  }

  /**
   * Run a query or mutation; resolves to a `Result` (FORBIDDEN fields included), retrying once
   * after a refresh when the access token has expired. Network failures reject with a TypeError.
   */
  async request(query, variables) {
    if (this._refreshing) await this._refreshing.catch(() => {});
    let result = await this._post(query, variables);
    const refused = result.refused;
    if (refused && codeOf(refused) === "UNAUTHENTICATED" && this._tokens?.refreshToken) {
      if (refused.extensions?.reason === "expired") {
        await this.refresh();
        result = await this._post(query, variables);
      }
    }
    if (result.refused && codeOf(result.refused) === "UNAUTHENTICATED" && this.signedIn) {
      this.setTokens(null); // the session is over (revoked, logged out elsewhere)
    }
    return result;
  }

  query(query, variables) {
    return this.request(query, variables);
  }

  mutate(mutation, variables) {
    return this.request(mutation, variables);
  }

  /**
   * Subscribe over graphql-transport-ws. `sink` gets `next(result)`, `error(error)`, `complete()`.
   * When the server ends the subscription because the token expired, it refreshes and resubscribes.
   * Returns a function that unsubscribes.
   */
  subscribe(query, variables, sink) {
    let stop = null;
    let stopped = false;
    const start = () => {
      stop = this._socket().subscribe({ query, variables }, {
        next: (message) => sink.next?.(new Result(message.data, message.errors)),
        error: async (error) => {
          const errors = Array.isArray(error) ? error : [error];
          if (!stopped && errors.some((e) => codeOf(e) === "UNAUTHENTICATED") && this._tokens?.refreshToken) {
            try {
              await this.refresh();
              if (!stopped) start();
              return;
            } catch {
              /* fall through: report it */
            }
          }
          sink.error?.(errors[0] instanceof Event ? { extensions: { code: "NETWORK" } } : errors[0]);
        },
        complete: () => sink.complete?.(),
      });
    };
    start();
    return () => {
      stopped = true;
      stop?.();
    };
  }

  _socket() {
    if (!this._ws) {
      this._ws = createClient({
        url: this.wsUrl,
        lazy: true,
        retryAttempts: 5,
        connectionParams: () => ({
          ...(this._tokens?.accessToken ? { authorization: `Bearer ${this._tokens.accessToken}` } : {}),
          ...(this.brand ? { brand: this.brand } : {}),
        }),
      });
    }
    return this._ws;
  }

  _closeSocket() {
    const socket = this._ws;
    this._ws = null;
    socket?.dispose();
  }

  // ---- the few operations every client needs --------------------------------------------------

  /** Staff login with a TOTP code; resolves to the payload (`staff`, or `errors` in staff words). */
  async staffLogin({ email, password, totpCode }) {
    const result = await this._post(STAFF_LOGIN, { input: { email, password, totpCode } }, false);
    if (result.refused) throw new GraphQLRequestError(result.refused);
    const payload = result.data.staffLogin;
    if (payload.tokens) this.setTokens(payload.tokens);
    return payload;
  }

  /** Forget the tokens at once (the page is signed out even if the server is slow), then end the session. */
  async logout() {
    const token = this._tokens?.accessToken;
    this.setTokens(null);
    if (!token) return;
    await this._send(LOGOUT, {}, token).catch(() => {}); // offline: the access token still expires on its own
  }

  /** Which of these schema coordinates the viewer may use (the server's own decisions), as a Set. */
  async permissions(coordinates) {
    const result = await this.request(PERMISSIONS, { coordinates });
    if (result.refused) throw new GraphQLRequestError(result.refused);
    return new Set(result.data?.permissions ?? []);
  }
}
