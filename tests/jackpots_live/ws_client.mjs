// A subscriber speaking graphql-transport-ws through the `graphql-ws` npm client (admin/node_modules), as an
// operator's frontend would: `node ws_client.mjs URL QUERY VARIABLES COUNT [TOKEN]` (Node < 22: with
// `--experimental-websocket`, for the global WebSocket).
// Prints one JSON line per `next` payload (and {"ready": true} once subscribed), exits 0 after COUNT of
// them, 1 with {"error": …} on a refusal or a closed socket.
import { createRequire } from "node:module";
import { fileURLToPath, pathToFileURL } from "node:url";
import path from "node:path";

const admin = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../admin/");
const require = createRequire(path.join(admin, "package.json"));
const { createClient } = await import(pathToFileURL(require.resolve("graphql-ws")).href);

const [url, query, variables, count, token] = process.argv.slice(2);
const client = createClient({
  url,
  webSocketImpl: WebSocket,
  connectionParams: token ? { authorization: `Bearer ${token}` } : {},
  retryAttempts: 0,
  lazy: false,
  on: { connected: () => console.log(JSON.stringify({ ready: true })) },
});
let left = Number(count);
const fail = (error) => {
  console.log(JSON.stringify({ error: Array.isArray(error) ? error : String(error?.message ?? error?.code ?? error) }));
  process.exit(1);
};
client.subscribe({ query, variables: JSON.parse(variables) }, {
  next: (payload) => {
    console.log(JSON.stringify(payload));
    left -= 1;
    if (left <= 0) client.dispose().then(() => process.exit(0));
  },
  error: fail,
  complete: () => process.exit(left <= 0 ? 0 : 1),
});
